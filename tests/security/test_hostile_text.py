"""Hostile run texts stay text in every HTML kfp_nb writes for a notebook.

The runs of :mod:`tests.security._hostile` (markup, scripts, attribute
break-outs, right-to-left text with an open U+202E override, emoji sequences,
control characters in display names, descriptions, parameter keys and values,
error messages, task names, metric names and output keys) are served by an
embedded server. Each HTML surface is parsed: no element or attribute may come
from a payload, and each payload must be found whole in the parsed text.

Surfaces: the static fallbacks of RunTable and RunView (``text/html`` of their
mime bundles), DataFrame ``to_html`` of runs, tasks and artifacts frames, the
comparison frames and the static compare table (``Comparison``'s ``text/html``),
an Artifact's static HTML and ``kfp_nb.diff``'s HTML. The widgets' JSON and the
browser rendering are checked in ``tests/browser/test_hostile_text_page.py``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

import kfp_nb
from kfp_nb import Client
from kfp_nb.server import launch

from ._hostile import FLAG, PAYLOADS, HostileRun, seed_hostile

_ACTIVE_TAGS = {"script", "img", "iframe", "object", "embed", "frame", "link", "meta"}


class _Page(HTMLParser):
    """Tags, attributes and text runs of an HTML fragment."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.texts: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    def problems(self) -> list[str]:
        found = []
        for tag, attrs in self.tags:
            if tag in _ACTIVE_TAGS:
                found.append(f"<{tag}> element")
            for name, value in attrs:
                if name.startswith("on") or name in ("href", "src", "srcdoc"):
                    found.append(f"{name}= on <{tag}>")
                if value and (FLAG in value or "javascript:" in value.lower()):
                    found.append(f"payload in {name}= of <{tag}>")
        return found


def _check(where: str, html: str, expected: list[str], *, whole: bool = True) -> None:
    page = _Page(html)
    assert not page.problems(), f"{where}: markup from a payload: {page.problems()}"
    if not whole:
        return
    # pandas prints tab, newline and carriage return in cells (not in headers)
    # as the two characters \t, \n, \r: still text.
    missing = [
        e for e in expected
        if not any(e in t or _pandas_text(e) in t for t in page.texts)
    ]  # fmt: skip
    assert not missing, f"{where}: texts not shown whole: {missing}"


def _pandas_text(text: str) -> str:
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = str(tmp_path_factory.mktemp("hostile") / "hostile.db")
    runs = seed_hostile(db)
    server = launch(db=db, demo=False, speed=20.0)
    try:
        with Client(server.url) as client:
            yield {"client": client, "runs": runs}
    finally:
        server.stop()


def _settle(check: Any, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def _run_texts(run: HostileRun) -> list[str]:
    return [run.display_name, run.param_key, run.param_value, run.error,
            run.task_display]  # fmt: skip


# -- the checker can fail ------------------------------------------------------------


@pytest.mark.parametrize("family", ["img", "script", "attr"])
def test_checker_flags_markup_inserted_unescaped(family: str) -> None:
    with pytest.raises(AssertionError):
        _check("control", f"<td>{PAYLOADS[family]}</td>", [PAYLOADS[family]])


def test_checker_flags_text_that_is_not_shown_whole() -> None:
    from html import escape

    with pytest.raises(AssertionError, match="not shown whole"):
        _check("control", f"<td>{escape(PAYLOADS['rtl'][:5])}</td>", [PAYLOADS["rtl"]])


# -- surfaces --------------------------------------------------------------------------


def test_run_table_fallback_html(hostile) -> None:
    client, runs = hostile["client"], hostile["runs"]
    table = kfp_nb.RunTable(client, polling=False)
    try:
        _settle(lambda: table.total == len(runs) and not table.loading
                and table.loaded == table.total, "the table")  # fmt: skip
        data, _ = table._repr_mimebundle_()
        _check("RunTable text/html", data["text/html"],
               [r.display_name for r in runs])  # fmt: skip
    finally:
        table.close()


@pytest.mark.parametrize("family", list(PAYLOADS))
def test_run_view_fallback_html(hostile, family: str) -> None:
    run = next(r for r in hostile["runs"] if r.family == family)
    view = kfp_nb.RunView(hostile["client"], run.run_id, polling=False)
    try:
        _settle(lambda: view.run is not None, "the run view")
        data, _ = view._repr_mimebundle_()
        _check(f"RunView text/html ({family})", data["text/html"], [
            run.display_name, run.description, run.error, f"param {run.param_key}",
            run.param_value, run.task_display, run.task_error,
        ])  # fmt: skip
    finally:
        view.close()


def test_frames_to_html(hostile) -> None:
    client, runs = hostile["client"], hostile["runs"]
    frame = client.runs()
    _check("runs.to_html()", frame.to_html(), [
        t for r in runs for t in (r.display_name, r.description, r.param_value,
                                  f"param.{r.param_key}")
    ])  # fmt: skip
    _check("runs._repr_html_()", frame._repr_html_() or "", [], whole=False)
    for run in runs:
        tasks = client.tasks(run.run_id)
        _check(f"tasks.to_html() ({run.family})", tasks.to_html(),
               [run.task_name, run.task_display, run.task_error])  # fmt: skip
        arts = client.artifacts(run.run_id)
        _check(f"artifacts.to_html() ({run.family})", arts.to_html(),
               [run.metric, run.output_key])  # fmt: skip


def test_compare_table_and_frames(hostile) -> None:
    client, runs = hostile["client"], hostile["runs"]
    for chunk in (runs[:3], runs[3:]):
        comparison = kfp_nb.compare(client, [r.run_id for r in chunk])
        names = [r.display_name for r in chunk]
        bundle = comparison._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        _check("Comparison text/html", data["text/html"],
               names + [r.metric for r in chunk])  # fmt: skip
        _check("Comparison.to_frame().to_html()", comparison.to_frame().to_html(),
               names + [r.metric for r in chunk])  # fmt: skip
        _check("Comparison.to_wide().to_html()", comparison.to_wide().to_html(),
               names + [r.param_value for r in chunk])  # fmt: skip
        wide = kfp_nb.compare(client.runs())
        _check("compare(frame).to_html()", wide.to_html(), names)


def test_artifact_static_html(hostile) -> None:
    client = hostile["client"]
    for run in hostile["runs"]:
        art = client.artifact(run.run_id, run.task_ids[1], run.output_key)
        bundle = art._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        _check(f"Artifact text/html ({run.family})", data["text/html"], [run.metric])


def test_diff_html(hostile) -> None:
    client, runs = hostile["client"], hostile["runs"]
    for a, b in itertools.pairwise(runs):
        html = kfp_nb.diff(client, a.run_id, b.run_id)._repr_html_()
        _check(f"diff html ({a.family}, {b.family})", html,
               [a.param_value, b.param_value])  # fmt: skip


@pytest.mark.parametrize("family", ["img", "rtl"])
def test_panel_error_quoting_a_hostile_id(hostile, family: str) -> None:
    """The server quotes the asked id in its 404; the panel shows it as text and
    shows bidi controls as escapes, so "not found" after an override reads
    left to right."""
    payload = PAYLOADS[family]
    view = kfp_nb.RunView(hostile["client"], payload, polling=False)
    try:
        _settle(lambda: view.error, "the view's error")
        error = view.error
        assert "not found" in error
        assert "\u202e" not in error
        shown = payload.replace("\u202e", "\\u202e")
        assert shown in error, error
        data, _ = view._repr_mimebundle_()
        _check("RunView error fallback", data["text/html"], [shown])
    finally:
        view.close()
