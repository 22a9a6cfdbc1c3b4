"""Unreadable artifacts and unusable file names raise ArtifactError (a ValueError)."""

from __future__ import annotations

import pytest

from kfp_nb import ArtifactError, KFPError
from kfp_nb._artifact import Artifact

DATA = b"id,score\n1,0.5\n"


def test_artifact_error_is_also_a_value_error():
    assert issubclass(ArtifactError, ValueError) and issubclass(ArtifactError, KFPError)


@pytest.mark.parametrize(
    "art",
    [
        Artifact(name="x", type="Artifact", metadata={}),  # no file
        Artifact(name="cm", type="ClassificationMetric", metadata={"x": 1}),
        Artifact(name="r", type="HTML", data=b"<p>x</p>"),
    ],
    ids=["no-file", "bad-metric", "html"],
)
def test_to_frame_of_an_unreadable_artifact_is_an_artifact_error(art):
    with pytest.raises(ArtifactError, match=repr(art.name)[1:-1]):
        art.to_frame()


@pytest.mark.parametrize(
    ("name", "words"),
    [("a\x00b", "NUL"), ("n" * 300 + ".csv", "255-byte")],
    ids=["null-byte", "too-long"],
)
def test_save_with_an_impossible_file_name_names_it(tmp_path, name, words):
    art = Artifact.from_bytes(DATA, name=name)
    with pytest.raises(ArtifactError, match=words) as info:
        art.save(directory=tmp_path)
    assert name[:10].replace("\x00", "\\x00") in str(info.value)
    assert list(tmp_path.iterdir()) == []
