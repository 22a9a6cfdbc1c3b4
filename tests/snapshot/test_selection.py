"""What a snapshot selects: a frame, filters, ids or every run; the host it names."""

from __future__ import annotations

import pytest

from kfp_nb._snapshot import public_host, read_snapshot

from ..frames.conftest import TINY_SPEC
from .conftest import experiment_id


def test_filters_dict_selects_as_client_runs_does(source, tmp_path):
    edge = experiment_id(source, "viewer-edge-cases")
    manifest = source.snapshot(
        tmp_path / "f.kfpsnap", {"experiment_id": edge}, progress=False
    )
    assert manifest["selection"] == {"filters": {"experiment_id": edge}}
    want = set(source.runs(experiment_id=edge)["run_id"])
    got = {r["run_id"] for r in read_snapshot(tmp_path / "f.kfpsnap").runs}
    assert got == want and len(got) == 2


def test_none_takes_every_run_even_archived_with_a_bar(client, tmp_path, capsys):
    kept = client.create_run(display_name="kept", pipeline_spec=TINY_SPEC)
    gone = client.create_run(display_name="gone", pipeline_spec=TINY_SPEC)
    client.archive_run(gone.run_id)
    manifest = client.snapshot(tmp_path / "all.kfpsnap", progress=True)
    assert manifest["selection"] == {"all_runs": True}
    assert "snapshot: 100%" in capsys.readouterr().err
    runs = read_snapshot(tmp_path / "all.kfpsnap").runs
    assert {r["run_id"] for r in runs} == {kept.run_id, gone.run_id}
    client.snapshot(tmp_path / "active.kfpsnap", {}, progress=False)
    active = read_snapshot(tmp_path / "active.kfpsnap").runs
    assert [r["run_id"] for r in active] == [kept.run_id]  # runs() hides archived


def test_bad_arguments_are_refused_before_anything_is_written(client, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(ValueError, match="max_artifact_bytes"):
        client.snapshot(tmp_path / "x.kfpsnap", [], max_artifact_bytes=-1)
    with pytest.raises(ValueError, match="over the fixed reading limit"):
        client.snapshot(tmp_path / "x.kfpsnap", [], max_artifact_bytes=1 << 30)
    with pytest.raises(ValueError, match="folder"):
        client.snapshot(tmp_path / "no" / "x.kfpsnap", [])
    with pytest.raises(ValueError, match="frame_or_filters"):
        client.snapshot(tmp_path / "x.kfpsnap", 42)
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(ValueError, match="is a folder; give a file name"):
        client.snapshot(tmp_path / "a-folder", None)  # None = every run: not fetched
    assert [p.name for p in tmp_path.iterdir()] == ["a-folder"]


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("https://user:pw@kfp.example.com:8443/pipeline?token=abc#frag",
         "https://kfp.example.com:8443/pipeline"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)  # fmt: skip
def test_the_source_host_carries_no_user_query_or_fragment(host, shown):
    assert public_host(host) == shown
