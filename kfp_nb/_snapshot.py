"""Snapshots: runs, their experiments, tasks and artifacts in one local file.

``Client.snapshot(path, ...)`` writes the file; ``kfp-nb serve --from-snapshot``
serves it (``kfp_nb.server._replay``), so a bug report or a demo replays offline.

Format: a zip archive (deflated), read member by member in memory with every size
and name checked, never extracted to disk:

- ``manifest.json`` — ``{"format": "kfp-nb-snapshot", "version": 1,
  "kfp_nb_version", "created_at", "source": {"host", "server"}, "selection",
  "max_artifact_bytes", "counts", "missing_runs", "missing_experiments"}``. The
  host is scheme, host name, port and path only: no user, query or fragment.
- ``experiments.jsonl``, ``runs.jsonl``, ``tasks.jsonl`` — one wire JSON object
  per line, as the server sent it (GetRun ``view=FULL`` without its ``tasks``,
  GetExperiment, ListTasks or the run's own task list).
- ``artifacts.jsonl`` — one line per file output of a task: ``run_id``,
  ``task_id``, ``node_id``, ``output_key``, ``status`` (``stored``,
  ``over_cap``, ``not_found`` or ``error``), ``size``, ``note`` and, when
  stored, ``member``: ``artifacts/<n>.bin`` holding the ``read_artifact`` payload
  as the server sent it (base64-decoded: the gzipped tar), so a replay answers
  with the very same bytes. Over ``max_artifact_bytes`` only the size is kept.

Credentials never enter the file: nothing is taken from the client but the
answers' bodies and the host without user, query or fragment.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from . import _artifacts, _errors

if TYPE_CHECKING:
    from ._client import Client

__all__ = [
    "DEFAULT_MAX_ARTIFACT_BYTES",
    "FORMAT",
    "Snapshot",
    "SnapshotError",
    "read_snapshot",
    "write_snapshot",
]

FORMAT = "kfp-nb-snapshot"
VERSION = 1
#: Default cap on each artifact payload kept in a snapshot.
DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024 * 1024
#: Fixed caps when reading, whatever the file's manifest says: members, one JSON
#: member, one JSON line, one artifact member, the whole uncompressed archive.
#: Sizes are checked against the zip directory and again while streaming,
#: because a directory can lie.
MAX_MEMBERS = 200_000
MAX_JSON_BYTES = 512 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_ARTIFACT_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
#: A member that inflates more than MAX_RATIO times, past RATIO_FLOOR bytes, is
#: a compression bomb, not a snapshot (deflate rarely beats 10:1 on real data).
MAX_RATIO = 1000
RATIO_FLOOR = 4 * 1024 * 1024
_CHUNK = 1 << 20

MANIFEST = "manifest.json"
_RECORDS = ("experiments", "runs", "tasks", "artifacts")
_ARTIFACT_MEMBER = re.compile(r"^artifacts/[0-9]{1,9}\.bin$")
_STATUSES = ("stored", "over_cap", "not_found", "error")


class SnapshotError(_errors.KFPError, ValueError):
    """A snapshot file that cannot be written or read; the text names the fix."""


@dataclass
class Snapshot:
    """A snapshot read in memory: the manifest and each kind of record.

    ``artifacts`` are the index lines, each with ``data`` (bytes, or None when
    not stored).
    """

    manifest: dict[str, Any]
    experiments: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)


# -- writing --------------------------------------------------------------------


def public_host(host: str) -> str:
    """``host`` without user, password, query or fragment (nothing secret)."""
    parts = urlsplit(host)
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _run_ids_of(client: Client, selection: Any) -> tuple[list[str], Any]:
    """(run ids, how they were chosen, for the manifest)."""
    if selection is None:
        frame = client.runs(archived=None, progress=False)
        return _unique(frame["run_id"]), {"all_runs": True}
    if isinstance(selection, Mapping):
        frame = client.runs(**dict(selection), progress=False)
        return _unique(frame["run_id"]), {"filters": _jsonable(dict(selection))}
    if isinstance(selection, str):
        return [selection], {"run_ids": [selection]}
    columns = getattr(selection, "columns", None)
    if columns is not None:
        if "run_id" not in columns:
            raise SnapshotError(
                "snapshot(): the DataFrame has no run_id column; pass a frame from "
                "client.runs() (or a dict of client.runs filters, or None)"
            )
        ids = _unique(selection["run_id"])
        return ids, {"run_ids": ids}
    if isinstance(selection, Iterable):
        ids = _unique(selection)
        return ids, {"run_ids": ids}
    raise SnapshotError(
        f"snapshot(): frame_or_filters must be a runs DataFrame, a dict of "
        f"client.runs filters or None, not {type(selection).__name__}"
    )


def _unique(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value:
            seen.setdefault(value, None)
    return list(seen)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _raw_get(client: Client, path: str, ident: str, what: str) -> dict[str, Any]:
    from ._base_client import _Call

    call = _Call("GET", path, run_id=ident, what=what)
    return client._object(call, client._request(call))


def _payload_size(data: str) -> int:
    """Decoded length of base64 text, without decoding it."""
    text = data.strip()
    return len(text) * 3 // 4 - (len(text) - len(text.rstrip("=")))


def _file_outputs(task: Mapping[str, Any]) -> list[str]:
    """Output keys of the task that name a file (an artifact with a uri)."""
    outputs = task.get("outputs")
    groups = outputs.get("artifacts") if isinstance(outputs, dict) else None
    keys: list[str] = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, dict) or not isinstance(
            group.get("artifact_key"), str
        ):
            continue
        arts = group.get("artifacts")
        if any(isinstance(a, dict) and a.get("uri") for a in arts or []):
            keys.append(group["artifact_key"])
    return list(dict.fromkeys(keys))


class _Writer:
    """Collects records and artifact members into an open zip file."""

    def __init__(self, zf: zipfile.ZipFile, client: Client, cap: int) -> None:
        self.zf = zf
        self.client = client
        self.cap = cap
        self.lines: dict[str, list[str]] = {kind: [] for kind in _RECORDS}
        self.members = 0

    def add(self, kind: str, record: Mapping[str, Any]) -> None:
        self.lines[kind].append(json.dumps(record, ensure_ascii=False))

    def artifact(self, run_id: str, task: Mapping[str, Any], key: str) -> None:
        from . import _artifact
        from ._base_client import API, _q

        node = _artifact.node_id(task)
        entry: dict[str, Any] = {
            "run_id": run_id, "task_id": str(task.get("task_id") or ""),
            "node_id": node, "output_key": key, "size": 0, "note": "",
        }  # fmt: skip
        path = (
            f"{API}/runs/{_q(run_id, 'run_id')}/nodes/{_q(node, 'node_id')}"
            f"/artifacts/{_q(key, 'artifact_name')}:read"
        )
        try:
            data = _raw_get(self.client, path, run_id, "artifact").get("data") or ""
            if not isinstance(data, str):
                raise _errors.ResponseFormatError(f"{path}: 'data' is not a string")
            entry["size"] = _payload_size(data)
            if entry["size"] > self.cap:
                entry["status"] = "over_cap"
                entry["note"] = (
                    f"{entry['size']} bytes, over the snapshot cap "
                    f"max_artifact_bytes={self.cap}; not stored"
                )
            else:
                raw = _artifacts.decode_base64(
                    data, max_bytes=self.cap, where=f"{path} (run {run_id})"
                )
                self.members += 1
                entry.update(status="stored", size=len(raw))
                entry["member"] = f"artifacts/{self.members:06d}.bin"
                self.zf.writestr(entry["member"], raw)
        except _errors.NotFound as exc:
            entry.update(status="not_found", note=str(exc)[:500])
        except _errors.KFPError as exc:
            entry.update(status="error", note=str(exc)[:500])
        self.add("artifacts", entry)

    def finish(self, manifest: dict[str, Any]) -> None:
        for kind in _RECORDS:
            text = "".join(f"{line}\n" for line in self.lines[kind])
            self.zf.writestr(f"{kind}.jsonl", text)
        self.zf.writestr(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))


def _progress(choice: bool | None, total: int) -> Any:
    from tqdm.auto import tqdm

    show = total > 5 if choice is None else bool(choice)
    return tqdm(total=total, desc="snapshot", unit="run", disable=not show)


def write_snapshot(
    client: Client,
    path: str | os.PathLike[str],
    selection: Any = None,
    *,
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Write the snapshot file (see the module doc); return its manifest.

    ``selection``: a runs DataFrame (its ``run_id`` column), a dict of
    ``client.runs`` keyword filters (``archived=False`` by default, as there),
    a list of run ids, or None for every run, archived ones included. The file
    appears only when complete (written next to it, then renamed). A run
    captured while active stays active when replayed, so ``wait()`` on it
    there runs out its timeout.
    """
    if (
        isinstance(max_artifact_bytes, bool)
        or not isinstance(max_artifact_bytes, int)
        or max_artifact_bytes < 0
    ):
        raise ValueError(
            f"max_artifact_bytes must be an int, 0 or more, not {max_artifact_bytes!r}"
        )
    if max_artifact_bytes > MAX_ARTIFACT_MEMBER_BYTES:
        # A larger payload would be refused when the file is read back.
        raise ValueError(
            f"max_artifact_bytes={max_artifact_bytes} is over the fixed reading "
            f"limit of {MAX_ARTIFACT_MEMBER_BYTES} bytes per artifact; pass that "
            "or less (larger payloads are recorded by size only)"
        )
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise SnapshotError(
            f"snapshot(path={target!r}): the folder {folder!r} does not exist; "
            "create it first"
        )
    if os.path.isdir(target):
        # Found before any run is fetched, not after the whole download.
        raise SnapshotError(
            f"snapshot(path={target!r}) is a folder; give a file name inside it, "
            f"e.g. {os.path.join(target, 'runs.kfpnb')!r}"
        )
    ids, chosen = _run_ids_of(client, selection)
    partial = f"{target}.partial"
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            writer = _Writer(zf, client, max_artifact_bytes)
            manifest = _collect(client, writer, ids, progress)
            manifest.update(selection=chosen, max_artifact_bytes=max_artifact_bytes)
            writer.finish(manifest)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    return manifest


def _collect(
    client: Client, writer: _Writer, ids: list[str], progress: bool | None
) -> dict[str, Any]:
    from . import __version__
    from ._base_client import API, _q

    missing_runs: list[str] = []
    experiment_ids: dict[str, None] = {}
    counts = dict.fromkeys(("runs", "tasks", "artifacts_stored"), 0)
    bar = _progress(progress, len(ids))
    try:
        for run_id in ids:
            try:
                run = _full_run(client, run_id)
            except _errors.NotFound:
                missing_runs.append(run_id)
                bar.update(1)
                continue
            tasks = client._run_task_dicts(run_id)
            run.pop("tasks", None)
            writer.add("runs", run)
            counts["runs"] += 1
            if isinstance(run.get("experiment_id"), str) and run["experiment_id"]:
                experiment_ids.setdefault(run["experiment_id"], None)
            for task in tasks:
                writer.add("tasks", {"run_id": run_id, **task})
                counts["tasks"] += 1
                for key in _file_outputs(task):
                    writer.artifact(run_id, task, key)
            bar.update(1)
    finally:
        bar.close()
    missing_experiments = []
    for exp_id in experiment_ids:
        try:
            path = f"{API}/experiments/{_q(exp_id, 'experiment_id')}"
            writer.add("experiments", _raw_get(client, path, exp_id, "experiment"))
        except _errors.NotFound:
            missing_experiments.append(exp_id)
    counts["experiments"] = len(writer.lines["experiments"])
    counts["artifacts"] = len(writer.lines["artifacts"])
    counts["artifacts_stored"] = writer.members
    return {
        "format": FORMAT,
        "version": VERSION,
        "kfp_nb_version": __version__,
        "created_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": {"host": public_host(client.host), "server": _server_tag(client)},
        "counts": counts,
        "missing_runs": missing_runs,
        "missing_experiments": missing_experiments,
    }


def _full_run(client: Client, run_id: str) -> dict[str, Any]:
    call = client._get_run_call(run_id, view="FULL", experiment_id=None)
    return client._object(call, client._request(call))


def _server_tag(client: Client) -> str | None:
    try:
        tag = client.healthz().get("tag_name")
    except _errors.KFPError:
        return None
    return tag if isinstance(tag, str) else None


# -- reading --------------------------------------------------------------------


def _bad(path: str, problem: str) -> SnapshotError:
    return SnapshotError(
        f"snapshot {path!r}: {problem}. Write a new one with "
        "client.snapshot(path, ...) from the source server"
    )


class _Budget:
    """Uncompressed bytes read so far, checked against the fixed caps as they come.

    ``zipfile`` trusts the sizes in the zip directory, which a hostile file
    sets; counting what actually inflates is the only reliable limit.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.total = 0

    def take(self, info: zipfile.ZipInfo, done: int, more: int, limit: int) -> int:
        """Account ``more`` bytes of ``info`` after ``done``; return the new count."""
        done += more
        self.total += more
        name = info.filename
        if done > limit:
            raise _bad(self.path, f"member {name!r} holds more than {limit} bytes")
        if self.total > MAX_TOTAL_BYTES:
            raise _bad(
                self.path, f"members add up to more than {MAX_TOTAL_BYTES} bytes"
            )
        if done > RATIO_FLOOR and done > max(info.compress_size, 1) * MAX_RATIO:
            raise _bad(
                self.path,
                f"member {name!r} inflates more than {MAX_RATIO} times its "
                "compressed size (a compression bomb)",
            )
        return done


def _check_size(info: zipfile.ZipInfo, limit: int, path: str) -> None:
    """Refuse from the directory alone what streaming would refuse later."""
    if info.file_size > limit:
        raise _bad(
            path,
            f"member {info.filename!r} is {info.file_size} bytes, over the limit "
            f"of {limit}",
        )


@contextlib.contextmanager
def _opened(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> Any:
    try:
        with zf.open(info) as fh:
            yield fh
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
            RuntimeError) as exc:  # fmt: skip
        raise _bad(path, f"member {info.filename!r} is corrupt ({exc})") from None


def _read_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limit: int,
    path: str,
    budget: _Budget,
) -> bytes:
    _check_size(info, limit, path)
    parts: list[bytes] = []
    done = 0
    with _opened(zf, info, path) as fh:
        while chunk := fh.read(_CHUNK):
            done = budget.take(info, done, len(chunk), limit)
            parts.append(chunk)
    return b"".join(parts)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (only finite numbers are)")


def _loads(text: str | bytes) -> Any:
    """``json.loads`` refusing NaN and Infinity, which no JSON reader accepts."""
    return json.loads(text, parse_constant=_no_constant)


#: String fields each kind of record needs, checked as each line is read so a
#: bad file fails at its first bad record.
_REQUIRED = {
    "experiments": ("experiment_id",),
    "runs": ("run_id",),
    "tasks": ("task_id", "run_id"),
    "artifacts": ("run_id", "task_id", "output_key", "status"),
}


def _records(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, budget: _Budget
) -> list[dict[str, Any]]:
    """The member's JSON lines, streamed and checked one line at a time."""
    member = info.filename
    kind = member.removesuffix(".jsonl")
    _check_size(info, MAX_JSON_BYTES, path)
    records: list[dict[str, Any]] = []
    done = 0
    number = 0
    with _opened(zf, info, path) as fh:
        while line := fh.readline(MAX_LINE_BYTES + 1):
            number += 1
            done = budget.take(info, done, len(line), MAX_JSON_BYTES)
            if len(line) > MAX_LINE_BYTES:
                raise _bad(
                    path, f"{member} line {number} is longer than {MAX_LINE_BYTES} "
                    "bytes",
                )  # fmt: skip
            record = _line(line, member, number, path)
            if record is None:
                continue
            for key in _REQUIRED[kind]:
                if not isinstance(record.get(key), str) or not record[key]:
                    raise _bad(
                        path, f"{member} line {number}: {key} is missing or not a "
                        "string",
                    )  # fmt: skip
            records.append(record)
    return records


def _line(line: bytes, member: str, number: int, path: str) -> dict[str, Any] | None:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(path, f"{member} line {number} is not UTF-8 ({exc})") from None
    if not text.strip():
        return None
    try:
        record = _loads(text)
    except (ValueError, RecursionError) as exc:
        raise _bad(path, f"{member} line {number} is not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise _bad(path, f"{member} line {number} is not a JSON object")
    return record


def read_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read and check a snapshot file; any defect is a SnapshotError naming it."""
    where = os.fspath(path)
    try:
        # Opened by path: members are read one at a time, never extracted.
        zf = zipfile.ZipFile(where)
    except OSError as exc:
        raise SnapshotError(f"snapshot {where!r} cannot be read: {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise _bad(
            where, "not a kfp-nb snapshot (not a zip archive, or truncated)"
        ) from None
    budget = _Budget(where)
    with zf:
        infos = _check_names(zf, where)
        manifest = _manifest(zf, infos, where, budget)
        snap = Snapshot(manifest=manifest)
        for kind in _RECORDS:
            info = infos.get(f"{kind}.jsonl")
            if info is None:
                raise _bad(where, f"the member {kind}.jsonl is missing")
            setattr(snap, kind, _records(zf, info, where, budget))
        # The manifest's cap is the writer's choice; the fixed one bounds a
        # hostile file, whatever its manifest claims.
        cap = min(manifest["max_artifact_bytes"], MAX_ARTIFACT_MEMBER_BYTES)
        for number, entry in enumerate(snap.artifacts, 1):
            entry["data"] = _artifact_data(zf, infos, entry, number, cap, budget)
    return snap


def _check_names(zf: zipfile.ZipFile, path: str) -> dict[str, zipfile.ZipInfo]:
    infos: dict[str, zipfile.ZipInfo] = {}
    allowed = {MANIFEST, *(f"{kind}.jsonl" for kind in _RECORDS)}
    total = 0
    for count, info in enumerate(zf.infolist(), 1):
        name = info.filename
        if count > MAX_MEMBERS:
            raise _bad(path, f"more than {MAX_MEMBERS} members")
        if name not in allowed and not _ARTIFACT_MEMBER.match(name):
            raise _bad(
                path,
                f"unexpected member {name[:200]!r} (only {MANIFEST}, *.jsonl and "
                "artifacts/<n>.bin belong in a snapshot)",
            )
        if name in infos:
            raise _bad(path, f"member {name!r} appears twice")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise _bad(path, f"members add up to more than {MAX_TOTAL_BYTES} bytes")
        if info.file_size > RATIO_FLOOR and info.file_size > (
            max(info.compress_size, 1) * MAX_RATIO
        ):
            raise _bad(
                path,
                f"member {name!r} claims to inflate more than {MAX_RATIO} times "
                "its compressed size (a compression bomb)",
            )
        infos[name] = info
    return infos


def _manifest(
    zf: zipfile.ZipFile,
    infos: dict[str, zipfile.ZipInfo],
    path: str,
    budget: _Budget,
) -> dict[str, Any]:
    info = infos.get(MANIFEST)
    if info is None:
        raise _bad(path, f"not a kfp-nb snapshot (no {MANIFEST})")
    data = _read_member(zf, info, 16 * 1024 * 1024, path, budget)
    try:
        manifest = _loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _bad(path, f"{MANIFEST} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(path, f"{MANIFEST} does not describe a {FORMAT} file")
    if manifest.get("version") != VERSION:
        raise _bad(
            path,
            f"format version {manifest.get('version')!r} is not supported (this "
            f"kfp_nb reads version {VERSION})",
        )
    cap = manifest.get("max_artifact_bytes")
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
        raise _bad(path, f"{MANIFEST}: max_artifact_bytes is not a whole number")
    return manifest


def _artifact_data(
    zf: zipfile.ZipFile,
    infos: dict[str, zipfile.ZipInfo],
    entry: dict[str, Any],
    number: int,
    cap: int,
    budget: _Budget,
) -> bytes | None:
    path = budget.path
    where = f"artifacts.jsonl line {number}"
    if entry["status"] not in _STATUSES:
        raise _bad(path, f"{where}: unknown status {entry['status'][:40]!r}")
    size = entry.get("size", 0)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise _bad(path, f"{where}: size is not a whole number")
    if not isinstance(entry.get("note", ""), str):
        raise _bad(path, f"{where}: note is not a string")
    if entry["status"] != "stored":
        return None
    member = entry.get("member")
    info = infos.get(member) if isinstance(member, str) else None
    if info is None:
        raise _bad(path, f"{where}: its member {str(member)[:200]!r} is missing")
    return _read_member(zf, info, cap, path, budget)
