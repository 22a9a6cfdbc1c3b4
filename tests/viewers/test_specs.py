"""View specs of every kind: good, empty, malformed and oversized input.

Artifacts are built in memory here (``Artifact(...)`` / ``Artifact.from_bytes``);
the same code paths run for artifacts read from the server (test_client.py).
"""

from __future__ import annotations

import copy
import json
import math

import pytest

from kfp_nb._artifact import Artifact
from kfp_nb._viewspec import iter_specs, options, sniff, unwrap
from kfp_nb.server._content import classification_metrics, png_image

WHO = {"run_id": "run-7", "task_id": "task-3", "task_name": "evaluate"}


def spec_of(artifact: Artifact, **caps) -> dict:
    spec = artifact.view_spec(**caps)
    # Widget state is JSON: no NaN/Infinity may slip into a spec.
    json.dumps(spec, allow_nan=False)
    return spec


def cm_meta(rows=((5, 1), (2, 7)), labels=("cat", "dog")) -> dict:
    return {
        "confusionMatrix": {
            "annotationSpecs": [{"displayName": x} for x in labels],
            "rows": [{"row": list(r)} for r in rows],
        }
    }


def wrapped(value):
    """ML Metadata's encoding: lists as {"list": ...}, objects as {"struct": ...}."""
    if isinstance(value, dict):
        return {"struct": {k: wrapped(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"list": [wrapped(v) for v in value]}
    return value


def png(width=4, height=3) -> bytes:
    return png_image(width, height, (b"\x00" + b"\x10\x20\x30" * width) * height)


def assert_error_names_artifact(spec: dict, *words: str) -> None:
    assert spec["kind"] == "error", spec
    message = spec["message"]
    for needed in ("run-7", "evaluate", *words):
        assert needed in message, (needed, message)


# --- Metrics -----------------------------------------------------------------


def test_metrics_table_skips_reserved_properties_and_keeps_each_value():
    art = Artifact(
        name="metrics", type="system.Metrics", **WHO,
        metadata={"accuracy": 0.91, "loss": 0.2, "epochs": 3,
                  "display_name": "metrics", "store_session_info": "{}"},
    )  # fmt: skip
    spec = spec_of(art)
    assert spec["kind"] == "metrics" and art.type == "Metric"
    assert spec["groups"] == [
        {"title": "metrics", "rows": [["accuracy", 0.91], ["loss", 0.2], ["epochs", 3]]}
    ]
    frame = art.to_frame()
    assert list(frame.columns) == ["name", "value"]
    assert frame.set_index("name")["value"].to_dict() == {
        "accuracy": 0.91, "loss": 0.2, "epochs": 3,
    }  # fmt: skip


def test_empty_metrics_say_so():
    spec = spec_of(Artifact(name="metrics", type="Metric", metadata={}, **WHO))
    assert spec["kind"] == "metrics" and spec["groups"][0]["rows"] == []
    assert "no scalar metrics" in spec["notes"][0]


def test_odd_metric_values_become_text_never_invalid_json():
    art = Artifact(
        name="m", type="Metric", **WHO,
        metadata={"nan": math.nan, "inf": math.inf, "flag": True, "none": None,
                  "nested": {"a": [1, 2]}, "label": "<b>best</b>"},
    )  # fmt: skip
    rows = dict(spec_of(art)["groups"][0]["rows"])
    assert rows == {
        "nan": "nan", "inf": "inf", "flag": "true", "none": "null",
        "nested": '{"a": [1, 2]}', "label": "<b>best</b>",
    }  # fmt: skip


def test_many_metrics_are_all_listed():
    metadata = {f"m{i}": i / 7 for i in range(5000)}
    spec = spec_of(Artifact(name="m", type="Metric", metadata=metadata, **WHO))
    assert len(spec["groups"][0]["rows"]) == 5000


# --- Confusion matrix --------------------------------------------------------------


def test_confusion_matrix_in_both_encodings_gives_the_same_spec():
    plain = Artifact(name="cm", type="ClassificationMetric", metadata=cm_meta(), **WHO)
    mlmd = Artifact(
        name="cm", type="system.ClassificationMetrics", metadata=wrapped(cm_meta()),
        **WHO,
    )  # fmt: skip
    assert unwrap(wrapped(cm_meta())) == cm_meta()
    for art in (plain, mlmd):
        spec = spec_of(art)
        assert spec["kind"] == "confusion_matrix"
        assert spec["labels"] == ["cat", "dog"]
        assert spec["matrix"] == [[5, 1], [2, 7]]
    frame = plain.to_frame()
    assert frame.loc["dog", "dog"] == 7 and frame.loc["cat", "dog"] == 1
    assert frame.index.name == "true label"
    assert frame.columns.name == "predicted label"


def test_confusion_matrix_of_the_demo_generator_is_valid():
    meta = classification_metrics(run_id="r", task_name="t", params={}, seed=1)
    art = Artifact(name="cls", type="ClassificationMetric", metadata=meta, **WHO)
    spec = spec_of(art)
    assert spec["kind"] == "stack"
    assert [s["kind"] for s in spec["specs"]] == ["confusion_matrix", "roc"]
    with pytest.raises(ValueError, match="to_frame\\('confusion_matrix'\\)"):
        art.to_frame()
    assert art.to_frame("confusion_matrix").shape == (3, 3)
    assert list(art.to_frame("roc").columns) == ["threshold", "fpr", "tpr"]


def _broken(change):
    meta = copy.deepcopy(cm_meta())
    change(meta["confusionMatrix"])
    return meta


@pytest.mark.parametrize(
    ("meta", "words"),
    [
        (_broken(lambda m: m["rows"].pop()), ["2 annotationSpecs but 1 rows"]),
        (_broken(lambda m: m["rows"][1]["row"].append(3)), ["rows[1] has 3 entries"]),
        (_broken(lambda m: m["rows"][0]["row"].__setitem__(0, -1)), [">= 0"]),
        (_broken(lambda m: m["rows"][0]["row"].__setitem__(1, "7")), ["'7'"]),
        (_broken(lambda m: m["rows"][0]["row"].__setitem__(1, True)), ["True"]),
        (_broken(lambda m: m["annotationSpecs"][1].pop("displayName")),
         ["annotationSpecs[1] has no displayName"]),
        (_broken(lambda m: m.pop("rows")), ["'rows'"]),
        ({"confusionMatrix": [1, 2]}, ["not an object"]),
        (_broken(lambda m: m.update(annotationSpecs=[], rows=[])),
         ["no annotationSpecs"]),
    ],
)  # fmt: skip
def test_malformed_confusion_matrix_is_an_error_naming_what_is_wrong(meta, words):
    art = Artifact(name="cm", type="ClassificationMetric", metadata=meta, **WHO)
    assert_error_names_artifact(spec_of(art), "'cm'", "confusionMatrix", *words)
    with pytest.raises(ValueError, match="confusionMatrix"):
        art.to_frame()


def test_confusion_matrix_over_the_label_cap_names_the_cap():
    labels = [f"c{i}" for i in range(201)]
    rows = [[1] * 201 for _ in labels]
    art = Artifact(
        name="cm", type="ClassificationMetric", metadata=cm_meta(rows, labels), **WHO
    )
    assert_error_names_artifact(spec_of(art), "matrix_max_labels=200")
    assert spec_of(art, matrix_max_labels=300)["kind"] == "confusion_matrix"


# --- ROC -----------------------------------------------------------------------------


def roc_points(n=5):
    return [
        {"confidenceThreshold": 1 - i / (n - 1), "falsePositiveRate": (i / (n - 1)) ** 2,
         "recall": (i / (n - 1)) ** 0.5}
        for i in reversed(range(n))
    ]  # fmt: skip


def test_roc_points_sorted_by_fpr_in_both_encodings():
    for meta in ({"confidenceMetrics": roc_points()},
                 wrapped({"confidenceMetrics": roc_points()})):  # fmt: skip
        art = Artifact(name="roc", type="ClassificationMetric", metadata=meta, **WHO)
        spec = spec_of(art)
        assert spec["kind"] == "roc"
        (curve,) = spec["curves"]
        fprs = [p["fpr"] for p in curve["points"]]
        assert fprs == sorted(fprs) and fprs[0] == 0 and fprs[-1] == 1
        assert set(curve["points"][0]) == {"fpr", "tpr", "threshold"}
        frame = art.to_frame()
        assert len(frame) == 5 and frame["tpr"].is_monotonic_increasing


def test_infinite_threshold_is_kept_as_null():
    points = roc_points()
    points[0]["confidenceThreshold"] = math.inf  # what sklearn gives first
    spec = spec_of(Artifact(name="roc", type="ClassificationMetric",
                            metadata={"confidenceMetrics": points}, **WHO))  # fmt: skip
    assert None in [p["threshold"] for p in spec["curves"][0]["points"]]


@pytest.mark.parametrize(
    ("points", "words"),
    [
        ([], ["no points"]),
        ([{"confidenceThreshold": 0.5, "falsePositiveRate": 0.1}], ["recall"]),
        ([{"confidenceThreshold": "0.5", "falsePositiveRate": 0.1, "recall": 0.2}],
         ["numeric confidenceThreshold"]),
        ([{"confidenceThreshold": 0.5, "falsePositiveRate": 1.5, "recall": 0.2}],
         ["outside [0, 1]"]),
        ({"not": "a list"}, ["not a list"]),
        ([3], ["not an object"]),
    ],
)  # fmt: skip
def test_malformed_roc_is_an_error(points, words):
    art = Artifact(name="roc", type="ClassificationMetric",
                   metadata={"confidenceMetrics": points}, **WHO)  # fmt: skip
    assert_error_names_artifact(spec_of(art), "confidenceMetrics", *words)


def test_roc_over_the_point_cap_is_thinned_and_says_so():
    spec = spec_of(
        Artifact(
            name="roc",
            type="ClassificationMetric",
            metadata={"confidenceMetrics": roc_points(5000)},
            **WHO,
        )
    )
    points = spec["curves"][0]["points"]
    assert len(points) == 2000 and points[0]["fpr"] == 0 and points[-1]["fpr"] == 1
    assert "roc_max_points=2000" in spec["notes"][0]


def test_classification_metric_without_either_key_is_an_error():
    art = Artifact(name="c", type="ClassificationMetric", metadata={"x": 1}, **WHO)
    assert_error_names_artifact(spec_of(art), "neither confusionMatrix")


def test_sliced_classification_metrics_show_each_slice():
    meta = {"evaluationSlices": [
        {"slice": "north", "sliceClassificationMetrics": cm_meta()},
        {"slice": "south", "sliceClassificationMetrics": {
            "confidenceMetrics": roc_points()}},
    ]}  # fmt: skip
    spec = spec_of(Artifact(name="s", type="SlicedClassificationMetric",
                            metadata=wrapped(meta), **WHO))  # fmt: skip
    kinds = [s["kind"] for s in spec["specs"]]
    assert kinds == ["confusion_matrix", "roc"]
    assert spec["specs"][1]["curves"][0]["label"] == "south"


# --- HTML ------------------------------------------------------------------------------


def test_html_is_carried_unmodified():
    page = b"<html><body><h1>x</h1><script>alert(1)</script></body></html>"
    spec = spec_of(Artifact(name="r", type="HTML", data=page, **WHO))
    assert spec["kind"] == "html" and spec["html"] == page.decode()
    assert spec["caps"]["bytes"] == 5 * 1024 * 1024


def test_empty_html_is_an_empty_page():
    spec = spec_of(Artifact(name="r", type="HTML", data=b"", **WHO))
    assert spec["kind"] == "html" and spec["html"] == "" and spec["size"] == 0


def test_html_that_is_not_utf8_is_an_error():
    art = Artifact(name="r", type="HTML", data=b"<p>caf\xe9</p>", **WHO)
    assert_error_names_artifact(spec_of(art), "not valid UTF-8", "byte 6: 0xe9")


def test_html_over_the_cap_is_a_download_naming_the_cap(monkeypatch):
    page = b"<p>" + b"x" * 2000 + b"</p>"
    art = Artifact(name="r", type="HTML", data=page, **WHO)
    spec = spec_of(art, html_max_bytes=1000)
    assert spec["kind"] == "too_large" and "html" not in spec
    assert spec["size"] == len(page) and spec["cap"] == 1000
    assert "html_max_bytes=1000" in spec["message"] and "run-7" in spec["message"]
    monkeypatch.setattr(options, "html_max_bytes", 1500)
    assert spec_of(art)["kind"] == "too_large"
    monkeypatch.setattr(options, "html_max_bytes", 5000)
    assert spec_of(art)["kind"] == "html"


@pytest.mark.parametrize("value", [0, -1, 1.5, "big", True])
def test_caps_must_be_positive_ints(value):
    with pytest.raises(ValueError, match="html_max_bytes"):
        options.html_max_bytes = value
    with pytest.raises(AttributeError, match="no cap"):
        options.html_max = 3


# --- Markdown ----------------------------------------------------------------------------


def test_markdown_good_empty_and_not_utf8():
    text = "# Title\n\n| a | b |\n|---|---|\n| 1 | é |\n"
    spec = spec_of(Artifact(name="s", type="Markdown", data=text.encode(), **WHO))
    assert spec == {**spec, "kind": "markdown", "markdown": text, "truncated": False}
    empty = spec_of(Artifact(name="s", type="Markdown", data=b"", **WHO))
    assert empty["markdown"] == "" and not empty["truncated"]
    bad = Artifact(name="s", type="Markdown", data=b"\xff\xfe# x", **WHO)
    assert_error_names_artifact(spec_of(bad), "not valid UTF-8")


def test_markdown_over_the_cap_is_truncated_on_a_character_boundary():
    text = "é" * 1000  # 2 bytes each
    spec = spec_of(Artifact(name="s", type="Markdown", data=text.encode(), **WHO),
                   markdown_max_bytes=999)  # fmt: skip
    assert spec["truncated"] and spec["markdown"] == "é" * 499
    assert "markdown_max_bytes=999" in spec["notes"][0]


# --- Tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_delimited_tables_with_a_header(sep):
    text = sep.join(["id", "region", "score"]) + "\n"
    text += "\n".join(sep.join([str(i), f"r{i}", f"{i / 4}"]) for i in range(6)) + "\n"
    art = Artifact(name="d", type="Dataset", data=text.encode(), **WHO)
    spec = spec_of(art)
    assert spec["kind"] == "table" and spec["columns"] == ["id", "region", "score"]
    assert spec["rows"][1] == [1, "r1", 0.25] and spec["total_rows"] == 6
    frame = art.to_frame()
    assert list(frame.columns) == ["id", "region", "score"] and len(frame) == 6


def test_table_without_header_gets_column_names_and_quoted_fields():
    text = '1,"Portland, OR",2.5\n2,"São Paulo",\n'
    art = Artifact(name="d", type="Dataset", data=text.encode(), **WHO)
    spec = spec_of(art)
    assert spec["columns"] == ["column_1", "column_2", "column_3"]
    assert spec["rows"] == [[1, "Portland, OR", 2.5], [2, "São Paulo", ""]]
    assert list(art.to_frame()["column_2"]) == ["Portland, OR", "São Paulo"]


def test_table_rows_over_the_cap_are_counted_and_named():
    text = "a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(2500))
    art = Artifact(name="d", type="Dataset", data=text.encode(), **WHO)
    spec = spec_of(art)
    assert len(spec["rows"]) == 1000 and spec["total_rows"] == 2500
    assert spec["truncated"] and "table_max_rows=1000" in spec["notes"][0]
    assert len(art.to_frame()) == 2500  # the frame has every row


def test_table_over_the_byte_cap_is_a_download_but_still_a_frame():
    text = "a,b\n" + "".join(f"{i},{i}\n" for i in range(300))
    art = Artifact(name="d", type="Dataset", data=text.encode(), **WHO)
    spec = spec_of(art, table_max_bytes=100)
    assert spec["kind"] == "too_large" and "table_max_bytes=100" in spec["message"]
    assert len(art.to_frame()) == 300


def test_malformed_and_empty_tables():
    huge_field = b"a\n" + b"x" * 200_000 + b"\n"
    bad = Artifact(name="d", type="Dataset", data=huge_field, **WHO)
    assert_error_names_artifact(spec_of(bad), "CSV is malformed")
    empty = spec_of(Artifact(name="d", type="Dataset", data=b"", **WHO))
    assert empty["kind"] == "text" and "empty" in empty["notes"][0]
    binary = spec_of(Artifact(name="d", type="Dataset", data=b"PAR1\x00\x01", **WHO))
    assert binary["kind"] == "binary" and binary["sniffed"] == "parquet"


# --- Images ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (png(), "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20 + b"\xff\xd9", "image/jpeg"),
        (b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 10 + b";", "image/gif"),
        (b"RIFF" + (12).to_bytes(4, "little") + b"WEBPVP8 " + b"\x00" * 4,
         "image/webp"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
         "image/svg+xml"),
    ],
)  # fmt: skip
def test_images_are_sniffed_by_their_bytes_and_sent_as_a_buffer(data, mime):
    art = Artifact(name="plot", type="Artifact", data=data, **WHO)
    spec, image = art._widget_payload(options)
    assert spec["kind"] == "image" and spec["mime"] == mime and image == data
    assert "data" not in json.dumps(spec)  # the bytes never go into the spec


def test_truncated_png_and_oversized_image():
    art = Artifact(name="plot", type="Artifact", data=png()[:-6], **WHO)
    assert_error_names_artifact(spec_of(art), "PNG is truncated")
    big = Artifact(name="plot", type="Artifact", data=png(64, 64), **WHO)
    spec, image = big._widget_payload(options.with_overrides({"image_max_bytes": 50}))
    assert spec["kind"] == "too_large" and image == b""
    assert "image_max_bytes=50" in spec["message"]


def test_svg_with_script_is_still_only_an_image():
    data = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert sniff(data) == "svg"
    spec = spec_of(Artifact(name="x", type="Artifact", data=data, **WHO))
    assert spec["kind"] == "image" and spec["mime"] == "image/svg+xml"


# --- Text, JSON, binary -----------------------------------------------------------------


def test_json_is_pretty_printed_and_text_kept():
    spec = spec_of(Artifact(name="model", type="Model", data=b'{"b":[1,2],"a":"x"}'))
    assert spec["language"] == "json" and spec["text"].startswith('{\n  "b": [')
    text = spec_of(Artifact(name="log", type="Artifact", data=b"hello\nworld"))
    assert text["language"] == "text" and text["text"] == "hello\nworld"


def test_text_over_the_cap_is_truncated_and_names_it():
    spec = spec_of(Artifact(name="log", type="Artifact", data=b"line\n" * 1000),
                   text_max_bytes=100)  # fmt: skip
    assert spec["truncated"] and len(spec["text"]) == 100
    assert "text_max_bytes=100" in spec["notes"][0]


def test_binary_gets_size_sniffed_type_and_hex_preview():
    data = bytes(range(256)) * 8
    spec = spec_of(Artifact(name="blob", type="Artifact", data=data))
    assert spec["kind"] == "binary" and spec["size"] == 2048
    assert spec["sniffed"] == "binary"
    lines = spec["hex"].splitlines()
    assert len(lines) == 32 and lines[0].startswith("00000000  00 01 02")
    zipped = spec_of(Artifact(name="z", type="Model", data=b"PK\x03\x04rest"))
    assert zipped["sniffed"] == "zip"


def test_invalid_utf8_of_unknown_type_is_binary_not_a_crash():
    spec = spec_of(Artifact(name="x", type="Artifact", data=b"abc\xff\xfe\x00def"))
    assert spec["kind"] == "binary"


def test_metadata_only_artifact_without_metadata_is_an_error():
    art = Artifact(name="x", type="Artifact", metadata={}, **WHO)
    assert art.data is None
    assert_error_names_artifact(spec_of(art), "no file")
    with pytest.raises(ValueError, match="no file"):
        art.to_frame()


def test_kinds_without_a_table_say_so():
    art = Artifact(name="r", type="HTML", data=b"<p>x</p>", **WHO)
    with pytest.raises(ValueError, match="html, which has no table form"):
        art.to_frame()
    with pytest.raises(ValueError, match="no 'roc' table"):
        Artifact(name="m", type="Metric", metadata={"a": 1}).to_frame("roc")


def test_every_spec_has_the_common_fields():
    arts = [
        Artifact(name="m", type="Metric", metadata={"a": 1}, **WHO),
        Artifact(name="r", type="HTML", data=b"<p>", uri="s3://b/k", **WHO),
        Artifact(name="b", type="Artifact", data=b"\x00\x01", **WHO),
    ]
    for art in arts:
        for spec in iter_specs(spec_of(art)):
            assert {"kind", "title", "artifact", "size", "caps"} <= set(spec)
            assert spec["artifact"]["name"] == art.name
            assert set(spec["caps"]) == {"bytes", "rows"}


@pytest.mark.parametrize("kind", ["HTML", "Markdown", "Dataset", "Model", "Artifact"])
def test_random_and_cut_bytes_never_crash_a_viewer(kind):
    import random

    rng = random.Random(kind)
    samples = [png()[:n] for n in (8, 20, 40)] + [
        b"\xef\xbb\xbf" + b'{"a": [1, 2', b'"unterminated,quote\n1,2', b"\r\n\r\n",
        b"a,b\n1,2,3,4\n5\n", b"<svg", b"GIF89a", b"RIFF\xff\xff\xff\xffWEBP",
    ]  # fmt: skip
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
                for _ in range(30)]  # fmt: skip
    for data in samples:
        art = Artifact(name="x", type=kind, data=data, **WHO)
        for spec in iter_specs(spec_of(art)):
            assert spec["kind"] in {"html", "markdown", "table", "image", "text",
                                    "binary", "error", "too_large"}  # fmt: skip
            if spec["kind"] == "error":
                assert "'x'" in spec["message"] and "run-7" in spec["message"]
