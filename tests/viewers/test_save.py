"""``Artifact.save``: writes only inside the target directory, never through links."""

from __future__ import annotations

import os

import pytest

from kfp_nb import ArtifactError
from kfp_nb._artifact import Artifact

DATA = b"id,score\n1,0.5\n"


def art(name: str = "predictions.csv") -> Artifact:
    return Artifact.from_bytes(DATA, name=name, type="Dataset")


def test_save_defaults_to_the_artifact_name(tmp_path):
    path = art().save(directory=tmp_path)
    assert path == tmp_path / "predictions.csv" and path.read_bytes() == DATA


def test_save_into_a_new_sub_folder(tmp_path):
    path = art().save("out/2026/p.csv", directory=tmp_path)
    assert path.read_bytes() == DATA and path.parent.is_dir()


@pytest.mark.parametrize(
    "path", ["/tmp/escape.csv", "../escape.csv", "a/../../escape.csv", "..\\x.csv"]
)
def test_paths_leaving_the_directory_are_refused(tmp_path, path):
    target = tmp_path / "inside"
    target.mkdir()
    with pytest.raises(ArtifactError, match="refused|leaves"):
        art().save(path, directory=target)
    assert list(tmp_path.rglob("*.csv")) == []


def test_an_artifact_name_with_traversal_is_refused_too(tmp_path):
    with pytest.raises(ArtifactError, match="'..'"):
        art("../../evil.csv").save(directory=tmp_path)


def test_symlinked_file_and_folder_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "p.csv").symlink_to(outside / "p.csv")
    with pytest.raises(ArtifactError, match="symbolic link"):
        art().save("p.csv", directory=root, overwrite=True)
    (root / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ArtifactError, match="symbolic link"):
        art().save("sub/p.csv", directory=root)
    assert os.listdir(outside) == []


def test_existing_file_is_kept_unless_overwrite(tmp_path):
    (tmp_path / "predictions.csv").write_bytes(b"old")
    with pytest.raises(ArtifactError, match="overwrite=True"):
        art().save(directory=tmp_path)
    assert (tmp_path / "predictions.csv").read_bytes() == b"old"
    art().save(directory=tmp_path, overwrite=True)
    assert (tmp_path / "predictions.csv").read_bytes() == DATA


def test_missing_directory_and_metadata_only_kinds(tmp_path):
    with pytest.raises(ArtifactError, match="does not exist"):
        art().save(directory=tmp_path / "nope")
    metric = Artifact(name="m", type="Metric", metadata={"a": 1})
    with pytest.raises(ArtifactError, match="no file, only metadata"):
        metric.save(directory=tmp_path)
    assert os.listdir(tmp_path) == []


def test_from_bytes_needs_bytes():
    with pytest.raises(TypeError, match="data must be bytes, got str"):
        Artifact.from_bytes("text", name="x", type="Dataset")
