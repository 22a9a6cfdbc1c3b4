"""``ArtifactViewer`` / ``CompareView`` and the panels' artifact requests.

The front end is simulated as in tests/widgets: requests go to the message
handler and every message the kernel would send is captured.
"""

from __future__ import annotations

import json

import pytest
from ipywidgets.widgets.widget import _instances

from kfp_nb import Client
from kfp_nb._artifact import Artifact
from kfp_nb._compare import compare
from kfp_nb.widgets import RunTable, RunView
from kfp_nb.widgets._base import Panel
from kfp_nb.widgets._viewer import ArtifactViewer, CompareView
from tests.widgets._helpers import Outbox

from . import _fake
from .conftest import first
from .test_specs import cm_meta, png, roc_points

TOKEN = "tok-SECRET-4f1c9a"


@pytest.fixture
def outbox(monkeypatch) -> Outbox:
    box = Outbox()
    monkeypatch.setattr(
        Panel, "send", lambda self, content, buffers=None: box.record(self, content,
                                                                      buffers)
    )  # fmt: skip
    return box


@pytest.fixture(autouse=True)
def _close_panels():
    yield
    for widget in list(_instances.values()):
        if isinstance(widget, Panel):
            widget.close()


def ask(panel: Panel, outbox: Outbox, request_id: str, **content) -> tuple[dict, list]:
    future = panel._on_message(panel, {"id": request_id, **content}, [])
    if future is not None:
        future.result(timeout=30)
    return outbox.reply(request_id)


def test_viewer_of_an_image_holds_spec_and_bytes(kfp, demo):
    run_id, task_id, key = first(demo, "Artifact", "loss_plot")
    art = kfp.artifact(run_id, task_id, key)
    viewer = ArtifactViewer(art)
    assert viewer._panel == "artifact_viewer" and viewer.spec["kind"] == "image"
    assert viewer.image == art.data and viewer.spec["mime"] == "image/png"
    same = ArtifactViewer(kfp, run_id, task_id, key)
    assert same.spec == viewer.spec and same.image == viewer.image
    state = viewer.get_state()
    assert state["spec"] == viewer.spec and state["_panel"] == "artifact_viewer"


def test_download_sends_the_full_bytes_in_a_buffer(kfp, demo, outbox):
    run_id, task_id, key = first(demo, "Dataset", "predictions")
    art = kfp.artifact(run_id, task_id, key)
    viewer = ArtifactViewer(art, table_max_rows=5)
    assert len(viewer.spec["rows"]) == 5  # the preview is capped...
    reply, buffers = ask(viewer, outbox, "d1", kind="download")
    assert reply == {"id": "d1", "kind": "download", "ok": True,
                     "name": key, "mime": "text/plain"}  # fmt: skip
    assert bytes(buffers[0]) == art.data  # ...the download is not
    small = ArtifactViewer(art, download_max_bytes=10)
    reply, buffers = ask(small, outbox, "d2", kind="download")
    assert reply["ok"] is False and "download_max_bytes=10" in reply["error"]
    assert buffers == []


def test_download_of_metrics_is_their_json(outbox):
    art = Artifact(name="metrics", type="Metric", metadata={"acc": 0.5})
    reply, buffers = ask(ArtifactViewer(art), outbox, "d", kind="download")
    assert reply["name"] == "metrics.json" and reply["mime"] == "application/json"
    assert json.loads(bytes(buffers[0])) == {"acc": 0.5}


def test_run_view_opens_artifacts_and_downloads_them(kfp, demo, outbox):
    run_id, task_id, key = first(demo, "Artifact", "loss_plot")
    view = RunView(kfp, run_id, polling=False)
    reply, buffers = ask(view, outbox, "o1", kind="open_artifact", run_id=run_id,
                         task_id=task_id, name=key)  # fmt: skip
    assert reply["ok"] and reply["kind"] == "open_artifact"
    assert reply["spec"]["kind"] == "image" and bytes(buffers[0]).startswith(b"\x89PNG")
    html_run, html_task, html_key = first(demo, "HTML", "report")
    reply, buffers = ask(view, outbox, "o2", kind="open_artifact", run_id=html_run,
                         task_id=html_task, name=html_key)  # fmt: skip
    assert reply["spec"]["kind"] == "html" and buffers == []
    reply, buffers = ask(view, outbox, "d1", kind="download", run_id=run_id,
                         task_id=task_id, name=key)  # fmt: skip
    assert reply["ok"] and reply["mime"] == "image/png"
    assert bytes(buffers[0]) == kfp.artifact(run_id, task_id, key).data


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ({"run_id": "r", "task_id": "t"}, "needs name"),
        ({"run_id": "r", "task_id": "t", "name": 3}, "needs name"),
        ({"run_id": "no-such-run", "task_id": "t", "name": "n"}, "no-such-run"),
    ],
)
def test_bad_open_artifact_requests_get_an_error_reply(kfp, outbox, content, words):
    table = RunTable(kfp, polling=False, limit=1)
    reply, _ = ask(table, outbox, "bad", kind="open_artifact", **content)
    assert reply["ok"] is False and words in reply["error"]


def test_run_table_opens_a_confusion_matrix(kfp, demo, outbox):
    run_id, task_id, key = first(demo, "ClassificationMetric")
    table = RunTable(kfp, polling=False, limit=1)
    reply, buffers = ask(table, outbox, "o", kind="open_artifact", run_id=run_id,
                         task_id=task_id, name=key)  # fmt: skip
    kinds = [s["kind"] for s in reply["spec"]["specs"]]
    assert kinds == ["confusion_matrix", "roc"] and buffers == []


def test_secrets_never_reach_state_specs_or_reprs(demo_server, demo, outbox):
    run_id, task_id, key = first(demo, "Markdown")
    with Client(demo_server.url, token=TOKEN, cookies={"session": TOKEN}) as client:
        art = client.artifact(run_id, task_id, key)
        viewer = ArtifactViewer(art)
        texts = [json.dumps(viewer.get_state(), default=str), repr(viewer),
                 repr(art), json.dumps(art.view_spec())]  # fmt: skip
        bundle = art._repr_mimebundle_()[0]
        texts += [str(v) for v in bundle.values()]
        reply, _ = ask(viewer, outbox, "d", kind="download")
        texts.append(json.dumps(reply))
        view = RunView(client, run_id, polling=False)
        reply, _ = ask(view, outbox, "o", kind="open_artifact", run_id=run_id,
                       task_id=task_id, name=key)  # fmt: skip
        texts.append(json.dumps(reply))
    assert reply["ok"]
    for text in texts:
        assert TOKEN not in text


def test_uri_credentials_are_stripped_from_specs():
    art = Artifact.from_bytes(
        b"x",
        name="a",
        type="Artifact",
        uri="https://user:pa55@host:9000/b/k?X-Amz-Signature=s",
    )
    viewer = ArtifactViewer(art)
    assert viewer.spec["artifact"]["uri"] == "https://host:9000/b/k"
    assert "pa55" not in json.dumps(viewer.get_state(), default=str)


def test_viewer_arguments_are_checked(kfp):
    with pytest.raises(TypeError, match="Artifact"):
        ArtifactViewer("not an artifact")
    with pytest.raises(TypeError, match="kfp_nb.Client first"):
        ArtifactViewer(object(), "run", "task", "name")
    with pytest.raises(TypeError, match="compare"):
        CompareView(Artifact(name="a", metadata={"x": 1}))


def test_rich_display_has_the_widget_and_a_static_copy():
    cls = Artifact(
        name="cls",
        type="ClassificationMetric",
        metadata={**cm_meta(), "confidenceMetrics": roc_points()},
    )
    data, _ = cls._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert (
        data["text/html"].count("<svg") == 2 and "Predicted label" in data["text/html"]
    )
    metrics = Artifact(name="m", type="Metric", metadata={"acc<b>": 0.5})
    html = metrics._repr_mimebundle_()[0]["text/html"]
    assert "<table" in html and "acc&lt;b&gt;" in html and "acc<b>" not in html
    image = Artifact.from_bytes(png(), name="p", type="Artifact")
    assert "data:image/png;base64," in image._repr_mimebundle_()[0]["text/html"]


def test_compare_view_shows_and_downloads_the_comparison(kfp, outbox):
    runs = kfp.runs(state="SUCCEEDED").head(2)["run_id"].tolist()
    view = CompareView(compare(kfp, runs))
    assert view.spec["kind"] == "stack" and view.spec["specs"][0]["kind"] == "table"
    reply, buffers = ask(view, outbox, "c", kind="download")
    assert reply["name"] == "comparison.csv" and bytes(buffers[0]).startswith(b"task,")


def test_viewer_works_without_a_sync_client():
    tasks = [_fake.task({"r": [_fake.artifact("r", "HTML", uri="s3://b/r")]})]
    fake = _fake.server(tasks, {"r": _fake.tgz([("r.html", b"<p>hi</p>")])})

    import asyncio

    async def main():
        async with fake.async_client() as client:
            return await client.artifact(_fake.RUN, _fake.TASK, "r")

    viewer = ArtifactViewer(asyncio.run(main()))
    assert viewer.spec["html"] == "<p>hi</p>" and viewer._client is None
