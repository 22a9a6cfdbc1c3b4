"""``python -m kfp_nb`` is the ``kfp-nb`` command."""

from kfp_nb.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
