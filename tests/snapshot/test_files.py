"""Snapshot files: caps, secrets, and hostile or broken files refused at load."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import httpx
import pytest

from kfp_nb import Client, _errors
from kfp_nb import _snapshot as snapshot_module
from kfp_nb._snapshot import SnapshotError, read_snapshot
from kfp_nb.server import create_app, launch
from kfp_nb.server._store import Store

from .conftest import experiment_id

API = "/apis/v2beta1"


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rewrite(src: Path, dst: Path, **changes: bytes | None) -> Path:
    """A copy of ``src`` with members replaced (bytes), dropped (None) or added.

    Identifier keywords spell ``.`` as ``_dot_`` (``runs_dot_jsonl``); other
    names are taken as they are.
    """
    members = _members(src)
    for key, value in changes.items():
        name = key.replace("_dot_", ".") if key.isidentifier() else key
        if value is None:
            members.pop(name, None)
        else:
            members[name] = value
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dst


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@pytest.fixture(scope="module")
def small(source, tmp_path_factory):
    """A snapshot of one edge-case run (every artifact kind), and its records."""
    edge = source.runs(experiment_id=experiment_id(source, "viewer-edge-cases"))
    path = tmp_path_factory.mktemp("small") / "one.kfpsnap"
    source.snapshot(path, edge.head(1), progress=False)
    return path, read_snapshot(path)


def _load(path: Path, db: Path) -> None:
    app = create_app(str(db), from_snapshot=str(path))
    app.state.store.close()


def test_small_cap_keeps_sizes_and_replay_says_why(source, small, tmp_path):
    snap = small[1]
    sizes = sorted(a["size"] for a in snap.artifacts if a["status"] == "stored")
    cap = (sizes[0] + sizes[-1]) // 2
    run_id = snap.runs[0]["run_id"]
    capped = tmp_path / "capped.kfpsnap"
    manifest = source.snapshot(capped, [run_id], max_artifact_bytes=cap, progress=False)
    assert manifest["max_artifact_bytes"] == cap
    entries = read_snapshot(capped).artifacts
    over = [a for a in entries if a["status"] == "over_cap"]
    kept = [a for a in entries if a["status"] == "stored"]
    assert over and kept
    for entry in over:
        assert entry["data"] is None and "member" not in entry
        assert entry["size"] > cap and f"max_artifact_bytes={cap}" in entry["note"]
    assert all(len(a["data"]) == a["size"] <= cap for a in kept)
    with launch(db=str(tmp_path / "r.db"), from_snapshot=capped) as proc:
        for entry in over:
            url = (f"{proc.url}{API}/runs/{run_id}/nodes/{entry['node_id']}"
                   f"/artifacts/{entry['output_key']}:read")  # fmt: skip
            answer = httpx.get(url, timeout=30)
            assert answer.status_code == 404
            body = answer.json()
            assert body["code"] == 5
            assert "over the snapshot cap" in body["details"][0]["message"]
            assert str(entry["size"]) in body["message"]
        with Client(proc.url, backoff=0) as replayed:
            first = replayed.artifact(run_id, over[0]["task_id"], over[0]["output_key"])
            with pytest.raises(_errors.NotFound, match="over the snapshot cap"):
                _ = first.data
            task, key = kept[0]["task_id"], kept[0]["output_key"]
            want = source.artifact(run_id, task, key).data
            assert replayed.artifact(run_id, task, key).data == want


def test_no_credential_is_ever_written(demo_server, small, tmp_path):
    secrets = ("tok-SECRET-7f3a", "cookie-SECRET-91bd", "hdr-SECRET-c0de")
    clients = [
        Client(demo_server.url, token=secrets[0], cookies={"session": secrets[1]}),
        Client(demo_server.url, headers={"Authorization": f"Bearer {secrets[2]}"}),
    ]
    for number, client in enumerate(clients):
        path = tmp_path / f"s{number}.kfpsnap"
        with client:
            client.snapshot(path, [small[1].runs[0]["run_id"]], progress=False)
        texts = [path.read_bytes(), *_members(path).values()]  # as stored, inflated
        for secret in (*secrets, "session=", "Bearer"):
            assert not any(secret.encode() in blob for blob in texts), secret
        assert read_snapshot(path).manifest["source"]["host"] == demo_server.url


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p, d: _write(d, b"hello, not a zip"), "not a zip archive"),
        (lambda p, d: _write(d, b""), "not a zip archive"),
        (lambda p, d: _write(d, p.read_bytes()[: p.stat().st_size // 2]),
         "truncated"),
        (lambda p, d: _rewrite(p, d, **{"../evil.txt": b"x"}),
         "unexpected member '../evil.txt'"),
        (lambda p, d: _rewrite(p, d, **{"/etc/passwd": b"x"}),
         "unexpected member '/etc/passwd'"),
        (lambda p, d: _rewrite(p, d, manifest_dot_json=None), "no manifest.json"),
        (lambda p, d: _rewrite(p, d, manifest_dot_json=b"{"),
         "manifest.json is not JSON"),
        (lambda p, d: _rewrite(p, d, manifest_dot_json=b'{"format": "zip"}'),
         "does not describe a kfp-nb-snapshot"),
        (lambda p, d: _rewrite(p, d, manifest_dot_json=json.dumps(
            {"format": "kfp-nb-snapshot", "version": 99}).encode()),
         "version 99 is not supported"),
        (lambda p, d: _rewrite(p, d, runs_dot_jsonl=b'{"run_id": "a"\n'),
         "runs.jsonl line 1 is not JSON"),
        (lambda p, d: _rewrite(p, d, tasks_dot_jsonl=b"[1, 2]\n"),
         "tasks.jsonl line 1 is not a JSON object"),
        (lambda p, d: _rewrite(p, d, runs_dot_jsonl=b"\xff\xfe\n"), "not UTF-8"),
        (lambda p, d: _rewrite(p, d, experiments_dot_jsonl=None),
         "experiments.jsonl is missing"),
    ],
    ids=[
        "text", "empty", "truncated", "traversal", "absolute", "no-manifest",
        "manifest-json", "format", "version", "bad-json", "not-object", "utf8",
        "missing-member",
    ],
)  # fmt: skip
def test_broken_files_are_refused_with_a_clear_error(small, tmp_path, make, expected):
    bad = make(small[0], tmp_path / "bad.kfpsnap")
    with pytest.raises(SnapshotError, match="snapshot") as err:
        _load(bad, tmp_path / "r.db")
    assert expected in str(err.value)
    assert str(bad) in str(err.value)


def _records(path: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in _members(path)[name].splitlines() if line]


def _manifest_with(path: Path, **fields) -> bytes:
    manifest = json.loads(_members(path)["manifest.json"])
    manifest.update(fields)
    return json.dumps(manifest).encode()


def _bad_record(path: Path, name: str, index: int, **fields) -> bytes:
    records = _records(path, name)
    records[index].update(fields)
    return _jsonl(records)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: {"runs_dot_jsonl": _bad_record(p, "runs.jsonl", 0, state="BOGUS")},
         "runs.jsonl line 1 (run_id "),
        (lambda p: {"runs_dot_jsonl": _bad_record(p, "runs.jsonl", 0,
                                                  created_at="yesterday")},
         "created_at is not a timestamp"),
        (lambda p: {"runs_dot_jsonl": _bad_record(p, "runs.jsonl", 0,
                                                  pipeline_spec=[1])},
         "pipeline_spec is not a JSON dict"),
        (lambda p: {"runs_dot_jsonl": _jsonl(_records(p, "runs.jsonl") * 2)},
         "a second record with the same key"),
        (lambda p: {"runs_dot_jsonl": _bad_record(p, "runs.jsonl", 0, run_id=None)},
         "run_id is missing"),
        (lambda p: {"tasks_dot_jsonl": _bad_record(p, "tasks.jsonl", 0, pods="x")},
         "pods is not a list"),
        (lambda p: {"tasks_dot_jsonl": _bad_record(
            p, "tasks.jsonl", 0, state_history=[{"update_time": "soon"}])},
         "not an RFC 3339 timestamp"),
        (lambda p: {"artifacts_dot_jsonl": _bad_record(
            p, "artifacts.jsonl", 0, member="artifacts/999999.bin")},
         "artifacts/999999.bin' is missing"),
        (lambda p: {"artifacts_dot_jsonl": _bad_record(p, "artifacts.jsonl", 0,
                                                       status="stolen")},
         "unknown status 'stolen'"),
        (lambda p: {"manifest_dot_json": _manifest_with(p, max_artifact_bytes=10)},
         "over the limit of 10"),
        (lambda p: {"manifest_dot_json": _manifest_with(p, max_artifact_bytes="5")},
         "max_artifact_bytes is not a whole number"),
        (lambda p: {"runs_dot_jsonl": _bad_record(p, "runs.jsonl", 0,
                                                  parameters={"x": float("nan")})},
         "runs.jsonl line 1 is not JSON (NaN is not a JSON number"),
        (lambda p: {"tasks_dot_jsonl": _bad_record(p, "tasks.jsonl", 0,
                                                   inputs={"y": float("-inf")})},
         "tasks.jsonl line 1 is not JSON (-Infinity is not a JSON number"),
        (lambda p: {"runs_dot_jsonl": _bad_record(p, "runs.jsonl", 0,
                                                  created_at=None)},
         "created_at is missing"),
    ],
    ids=[
        "state", "timestamp", "spec-type", "duplicate", "no-id", "pods",
        "task-history", "member-missing", "status", "oversized-member", "cap-type",
        "nan", "infinity", "no-created-at",
    ],
)  # fmt: skip
def test_hostile_records_are_refused_naming_the_record(
    small, tmp_path, change, expected
):
    bad = _rewrite(small[0], tmp_path / "bad.kfpsnap", **change(small[0]))
    db = tmp_path / "r.db"
    with pytest.raises(SnapshotError) as err:
        _load(bad, db)
    assert expected in str(err.value)
    assert "client.snapshot(path, ...)" in str(err.value)
    # Nothing half-loaded: the refused load left no run behind.
    store = Store(str(db))
    with store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
    store.close()


def test_oversized_json_member_is_refused(small, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_module, "MAX_JSON_BYTES", 100)
    with pytest.raises(SnapshotError, match="over the limit of 100"):
        read_snapshot(small[0])


def test_loading_is_idempotent_and_needs_a_fresh_database(small, tmp_path):
    db = tmp_path / "r.db"
    _load(small[0], db)
    _load(small[0], db)  # a restart on the same --db: loaded once
    store = Store(str(db))
    with store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    store.close()
    other = tmp_path / "other.kfpsnap"
    _rewrite(small[0], other, runs_dot_jsonl=_jsonl(_records(small[0], "runs.jsonl")),
             tasks_dot_jsonl=b"")  # fmt: skip
    with pytest.raises(SnapshotError, match="already holds runs or experiments"):
        _load(other, db)


def test_namespaced_experiments_stay_listed(small, tmp_path):
    path = small[0]
    records = _records(path, "experiments.jsonl")
    for record in records:
        record["namespace"] = "team-a"
    namespaced = _rewrite(
        path, tmp_path / "ns.kfpsnap", experiments_dot_jsonl=_jsonl(records)
    )
    app = create_app(str(tmp_path / "r.db"), from_snapshot=str(namespaced))
    store = app.state.store
    with store.read() as conn:
        rows = conn.execute("SELECT experiment_id, namespace FROM experiments")
        listed = {r["experiment_id"]: r["namespace"] for r in rows}
    store.close()
    assert {r["experiment_id"] for r in records} <= set(listed)
    assert set(listed.values()) == {""}


# -- bombs: a small file must not exhaust memory, whatever it claims ----------


def _claim_size(path: Path, member: str, size: int) -> Path:
    """Make the zip directory claim ``size`` uncompressed bytes for ``member``."""
    data = bytearray(path.read_bytes())
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_len = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_len] == member.encode():
            data[at + 24 : at + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return path
        at += 4


def _first_stored(snap) -> str:
    return next(a["member"] for a in snap.artifacts if a["status"] == "stored")


def test_empty_object_lines_fail_at_the_first_line(small, tmp_path):
    # The tester's file: ~96 MiB of "{}" lines read whole before any check.
    bomb = _rewrite(small[0], tmp_path / "b.kfpsnap", runs_dot_jsonl=b"{}\n" * 200_000)
    with pytest.raises(SnapshotError) as err:
        read_snapshot(bomb)
    assert "runs.jsonl line 1: run_id is missing" in str(err.value)


def test_a_long_line_is_refused_with_its_number(small, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_module, "MAX_LINE_BYTES", 64)
    runs = _records(small[0], "runs.jsonl")
    body = json.dumps({"run_id": "short"}) + "\n" + json.dumps(runs[0]) + "\n"
    bad = _rewrite(
        small[0], tmp_path / "b.kfpsnap",
        experiments_dot_jsonl=b"", runs_dot_jsonl=body.encode(),
    )  # fmt: skip
    with pytest.raises(SnapshotError, match="runs.jsonl line 2 is longer than 64"):
        read_snapshot(bad)


def test_artifact_cap_is_fixed_whatever_the_manifest_says(small, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_module, "MAX_ARTIFACT_MEMBER_BYTES", 1000)
    member = _first_stored(small[1])
    bad = _rewrite(
        small[0], tmp_path / "b.kfpsnap",
        manifest_dot_json=_manifest_with(small[0], max_artifact_bytes=4 << 30),
        **{member: bytes(5000)},
    )  # fmt: skip
    with pytest.raises(SnapshotError, match="over the limit of 1000"):
        read_snapshot(bad)


def test_a_directory_claiming_a_huge_total_is_refused_unread(small, tmp_path):
    member = _first_stored(small[1])
    bad = _rewrite(
        small[0], tmp_path / "b.kfpsnap",
        manifest_dot_json=_manifest_with(small[0], max_artifact_bytes=4 << 30),
    )  # fmt: skip
    _claim_size(bad, member, 3 << 30)
    with pytest.raises(SnapshotError, match="members add up to more than 2147483648"):
        read_snapshot(bad)


def test_a_directory_claiming_less_than_it_holds_is_corrupt(small, tmp_path):
    member = _first_stored(small[1])
    bad = _rewrite(small[0], tmp_path / "b.kfpsnap", **{member: bytes(5000)})
    _claim_size(bad, member, 10)
    with pytest.raises(SnapshotError, match=f"member '{member}' is corrupt"):
        read_snapshot(bad)


def test_what_streams_is_counted_even_if_the_directory_lies(
    small, tmp_path, monkeypatch
):
    # zipfile stops at the directory's size; the count while streaming is the
    # second line of defence, so the directory check is switched off here.
    monkeypatch.setattr(snapshot_module, "_check_size", lambda *a: None)
    monkeypatch.setattr(snapshot_module, "MAX_JSON_BYTES", 50)
    runs = _jsonl([{"run_id": f"r{n}"} for n in range(10)])
    bad = _rewrite(
        small[0], tmp_path / "b.kfpsnap", experiments_dot_jsonl=b"", runs_dot_jsonl=runs
    )
    with pytest.raises(SnapshotError, match="'runs.jsonl' holds more than 50 bytes"):
        read_snapshot(bad)
    monkeypatch.setattr(snapshot_module, "MAX_JSON_BYTES", 1 << 20)
    monkeypatch.setattr(snapshot_module, "MAX_TOTAL_BYTES", 100)
    monkeypatch.setattr(snapshot_module, "_check_names", _names_without_ratio)
    with pytest.raises(SnapshotError, match="members add up to more than 100"):
        read_snapshot(bad)


def test_compression_bombs_are_refused(small, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_module, "RATIO_FLOOR", 1000)
    member = _first_stored(small[1])
    bad = _rewrite(
        small[0], tmp_path / "b.kfpsnap",
        manifest_dot_json=_manifest_with(small[0], max_artifact_bytes=4 << 20),
        **{member: bytes(2 << 20)},
    )  # fmt: skip
    with pytest.raises(SnapshotError, match="inflate more than 1000 times"):
        read_snapshot(bad)
    # The same check while streaming, should the directory lie about it.
    monkeypatch.setattr(snapshot_module, "_check_names", _names_without_ratio)
    with pytest.raises(SnapshotError, match="compression bomb"):
        read_snapshot(bad)


def _names_without_ratio(zf, path):
    return {info.filename: info for info in zf.infolist()}
