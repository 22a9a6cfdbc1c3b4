"""Field cases 24 (HTML with script) and 27 (tar traversal), each as its kind."""

from __future__ import annotations

import base64
import io
import json
import os
import tarfile

import pytest

from kfp_nb import ArtifactError
from kfp_nb._artifact import Artifact
from kfp_nb._viewspec import iter_specs
from tests._data import CASES, case

from . import _fake
from .conftest import first

# --- 24: HTML artifacts run script only inside the sandboxed frame --------------------

PAGE = case("24")["server_response"]["body"]


def html_client(page: str):
    tasks = [
        _fake.task(
            {
                "report": [
                    _fake.artifact(
                        "report",
                        "HTML",
                        uri="minio://mlpipeline/v2/artifacts/demo/report",
                    )
                ]
            }
        )
    ]
    files = {"report": _fake.tgz([("report.html", page.encode())])}
    return _fake.server(tasks, files).client()


def assert_only_sandboxed(art: Artifact, page: str) -> None:
    """The raw page is in the spec (for the iframe srcdoc) and nowhere else."""
    spec = art.view_spec()
    assert spec["kind"] == "html" and spec["html"] == page  # byte for byte
    bundle = art._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    fallback = data["text/html"]
    # The static copy a saved notebook shows never carries the page itself.
    assert "<script" not in fallback and "javascript:" not in fallback
    assert page not in fallback and "sandboxed frame" in fallback
    assert "<script" not in data["text/plain"]


def test_case24_html_with_script_reaches_the_viewer_unmodified():
    client = html_client(PAGE)
    art = client.artifact(_fake.RUN, _fake.TASK, "report")
    assert_only_sandboxed(art, PAGE)
    from kfp_nb.widgets._viewer import ArtifactViewer

    viewer = ArtifactViewer(art)
    try:
        assert viewer.spec["html"] == PAGE and viewer.image == b""
        assert "<script" not in viewer._repr_mimebundle_()[0]["text/html"]
    finally:
        viewer.close()


def test_case24_kind_every_html_source_is_only_ever_a_spec(kfp, demo):
    # The demo's reports run a script too; v1 web-app outputs are HTML as well.
    run_id, task_id, key = first(demo, "HTML", "report")
    art = kfp.artifact(run_id, task_id, key)
    assert "<script>" in art.data.decode()
    assert_only_sandboxed(art, art.data.decode())
    run_id, task_id, key = first(demo, "Artifact", "mlpipeline-ui-metadata")
    ui = kfp.artifact(run_id, task_id, key)
    (web,) = [s for s in iter_specs(ui.view_spec()) if s["kind"] == "html"]
    assert "<script>" in web["html"]
    assert "<script" not in ui._repr_mimebundle_()[0]["text/html"]


def test_case24_very_large_html_is_a_download_not_inlined():
    page = "<html><body>" + "<p>row</p>" * 60_000 + "<script>x()</script></body></html>"
    art = html_client(page).artifact(_fake.RUN, _fake.TASK, "report")
    spec = art.view_spec(html_max_bytes=500_000)
    assert spec["kind"] == "too_large" and "html" not in spec
    assert spec["size"] == len(page) and "html_max_bytes=500000" in spec["message"]
    name, mime, data = art._download(art_options())
    assert data == page.encode() and mime == "text/html" and name == "report"


def art_options():
    from kfp_nb._viewspec import options

    return options


# --- 27: unsafe archive members are skipped, named and never written -------------------

PAYLOAD = case("27")["server_response"]["body"]["data"]
REFUSED = {"../../escape.txt", "/tmp/absolute.txt", "link_to_passwd", "dev_node"}


def traversal_client(data: str | bytes):
    tasks = [
        _fake.task(
            {
                "mlpipeline-metrics": [
                    _fake.artifact(
                        "mlpipeline-metrics", "Artifact", uri="minio://b/metrics.tgz"
                    )
                ]
            }
        )
    ]
    return _fake.server(tasks, {"mlpipeline-metrics": data}).client()


def test_case27_preview_shows_the_safe_member_and_names_the_rest(tmp_path):
    before = set(os.listdir(tmp_path))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        art = traversal_client(PAYLOAD).artifact(
            _fake.RUN, _fake.TASK, "mlpipeline-metrics"
        )
        spec = art.view_spec()
    finally:
        os.chdir(cwd)
    assert set(os.listdir(tmp_path)) == before  # nothing extracted anywhere
    assert spec["kind"] == "text" and "accuracy" in spec["text"]
    notes = " ".join(spec["notes"])
    for name in REFUSED:
        assert repr(name) in notes
    assert {name for name, _ in art.refused} == REFUSED
    assert art.files == {"data": art.data}


def test_case27_save_writes_only_the_safe_file(tmp_path):
    art = traversal_client(PAYLOAD).artifact(
        _fake.RUN, _fake.TASK, "mlpipeline-metrics"
    )
    path = art.save(directory=tmp_path)
    assert path == tmp_path / "mlpipeline-metrics"
    assert sorted(os.listdir(tmp_path)) == ["mlpipeline-metrics"]
    assert path.read_bytes() == art.data
    assert not (tmp_path.parent / "escape.txt").exists()


def test_case27_fixture_file_is_the_payload():
    raw = (CASES / "traversal_artifact.tgz").read_bytes()
    assert base64.b64encode(raw).decode() == PAYLOAD


def _archive(*members: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, **extra) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in extra.items():
        setattr(info, key, value)
    return info


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (_member("a/../../x"), "'..'"),
        (_member("/etc/cron.d/x"), "absolute path"),
        (_member("C:\\x"), "absolute path"),
        (_member("ln", tarfile.SYMTYPE, linkname="/etc/passwd"), "link to"),
        (_member("hard", tarfile.LNKTYPE, linkname="other"), "link to"),
        (_member("fifo", tarfile.FIFOTYPE), "FIFO"),
        (_member("blk", tarfile.BLKTYPE), "device node"),
    ],
)
def test_case27_kind_an_archive_of_only_unsafe_members_is_an_error(member, reason):
    art = traversal_client(_archive(member)).artifact(
        _fake.RUN, _fake.TASK, "mlpipeline-metrics"
    )
    spec = art.view_spec()
    assert spec["kind"] == "error" and "no readable file" in spec["message"]
    assert reason in spec["message"] and _fake.RUN in spec["message"]
    with pytest.raises(ArtifactError, match="no readable file"):
        _ = art.data


def test_case27_kind_not_base64_or_not_gzip_is_a_clear_error():
    for data in ("%%%", base64.b64encode(b"\x1f\x8b\x08garbage").decode()):
        spec = (
            traversal_client(data)
            .artifact(_fake.RUN, _fake.TASK, "mlpipeline-metrics")
            .view_spec()
        )
        assert spec["kind"] == "error", spec
        assert "base64" in spec["message"] or "gzip" in spec["message"]
        json.dumps(spec, allow_nan=False)
