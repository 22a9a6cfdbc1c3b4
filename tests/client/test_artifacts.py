"""Case 27 and its kind: artifact payloads are unpacked in memory, safely."""

from __future__ import annotations

import base64
import gzip
import io
import tarfile

import pytest

import kfp_nb
from kfp_nb import _artifacts
from tests._data import CASES, case

from ._mock import FakeServer, reply

RUN = "9d0c1e7a-0000-4000-8000-000000000032"
METRICS = b'{"accuracy": 0.91, "loss": 0.23}\n'


def _tar(*members: tarfile.TarInfo | tuple[str, bytes], gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for member in members:
            if isinstance(member, tuple):
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
            else:
                tar.addfile(member)
    return buf.getvalue()


def _special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info


def _read(payload: bytes | str, **options) -> bytes:
    data = payload if isinstance(payload, str) else base64.b64encode(payload).decode()
    fake = FakeServer().on("GET", ":read$", reply(200, {"data": data}))
    return fake.client().read_artifact(
        RUN, "demo-node-1", "mlpipeline-metrics", **options
    )


def test_case27_fixture_is_the_case_payload():
    fixture = (CASES / "traversal_artifact.tgz").read_bytes()
    assert (
        base64.b64encode(fixture).decode()
        == (case("27")["server_response"]["body"]["data"])
    )


def test_case27_read_artifact_refuses_and_names_run_and_artifact():
    data = case("27")["server_response"]["body"]["data"]
    with pytest.raises(kfp_nb.ArtifactError) as info:
        _read(data)
    text = str(info.value)
    assert RUN in text and "mlpipeline-metrics" in text
    assert "../../escape.txt" in text


def test_case27_scan_shows_the_safe_member_and_names_each_refused_one():
    scan = _artifacts.scan_payload(case("27")["server_response"]["body"]["data"])
    assert scan.files == {"data": METRICS}
    assert dict(scan.refused) == {
        "../../escape.txt": "path contains '..'",
        "/tmp/absolute.txt": "absolute path",
        "link_to_passwd": "name already used by an earlier member",
        "dev_node": "device node",
    }
    assert scan.refused[2] == ("link_to_passwd", "link to '/etc/passwd'")


@pytest.mark.parametrize("gz", [True, False])
def test_one_file_archive_gives_its_bytes(gz):
    assert _read(_tar(("data", METRICS), gz=gz)) == METRICS


def test_folders_around_the_one_file_are_fine():
    folder = _special("out", tarfile.DIRTYPE)
    assert _read(_tar(folder, ("out/metrics.json", METRICS))) == METRICS


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (("../../escape.txt", b"x"), ".."),
        (("a/../../b", b"x"), ".."),
        (("/tmp/absolute.txt", b"x"), "absolute"),
        (("C:/windows.txt", b"x"), "absolute"),
        (_special("link", tarfile.SYMTYPE, "/etc/passwd"), "link"),
        (_special("hard", tarfile.LNKTYPE, "data"), "link"),
        (_special("dev", tarfile.CHRTYPE), "device"),
        (_special("blk", tarfile.BLKTYPE), "device"),
        (_special("pipe", tarfile.FIFOTYPE), "FIFO"),
    ],
)
def test_every_unsafe_member_kind_is_refused(member, reason):
    payload = _tar(("data", METRICS), member)
    with pytest.raises(kfp_nb.ArtifactError, match=reason):
        _read(payload)
    scan = _artifacts.scan_payload(base64.b64encode(payload))
    assert scan.files == {"data": METRICS} and reason in scan.refused[0][1]


def test_more_than_one_file_is_refused_with_names():
    with pytest.raises(kfp_nb.ArtifactError, match=r"'a'.*'b'"):
        _read(_tar(("a", b"1"), ("b", b"2")))


def test_many_members_are_refused_before_reading_them_all():
    members = [_special(f"d{i}", tarfile.DIRTYPE) for i in range(1100)]
    with pytest.raises(kfp_nb.ArtifactError, match="more than 1000 members"):
        _read(_tar(*members))


def test_gzip_bomb_stops_at_the_cap():
    bomb = gzip.compress(b"\0" * (40 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    with pytest.raises(kfp_nb.ArtifactError, match="gzip bomb"):
        _read(bomb, max_bytes=1024 * 1024)


def test_tar_bomb_inside_gzip_stops_at_the_cap():
    payload = _tar(("data", b"\0" * (8 * 1024 * 1024)))
    with pytest.raises(kfp_nb.ArtifactError):
        _read(payload, max_bytes=1024 * 1024)


def test_oversized_encoded_payload_is_refused_before_decoding():
    with pytest.raises(kfp_nb.ArtifactError, match="max_bytes"):
        _read(base64.b64encode(b"x" * 300_000).decode(), max_bytes=100_000)


@pytest.mark.parametrize("data", ["not base64 at all!!", "H4sI" + "A" * 10])
def test_bad_base64_or_gzip_is_a_clear_error(data):
    with pytest.raises(kfp_nb.ArtifactError, match="mlpipeline-metrics"):
        _read(data)


def test_plain_and_gzipped_single_files_and_empty_data():
    assert _read(b"plain log line\n") == b"plain log line\n"
    assert _read(gzip.compress(b"logs")) == b"logs"
    fake = FakeServer().on("GET", ":read$", reply(200, {}))
    assert fake.client().read_artifact(RUN, "n", "main-logs") == b""


def test_artifact_path_segments_are_quoted():
    fake = FakeServer().on("GET", ".*", reply(200, {"data": ""}))
    fake.client().read_artifact("r/1", "node 1", "a:b")
    assert fake.requests[0].url.raw_path.endswith(
        b"/runs/r%2F1/nodes/node%201/artifacts/a%3Ab:read"
    )
