"""Static SVG of ROC curves and confusion matrices: drawn, escaped, inert."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kfp_nb._svg import confusion_svg, roc_svg

EVIL = '<script>alert(1)</script>"&'
NS = "{http://www.w3.org/2000/svg}"


def test_confusion_svg_has_a_cell_per_count_and_escapes_labels():
    svg = confusion_svg([EVIL, "dog"], [[5, 1], [0, 7]])
    root = ET.fromstring(svg)  # well-formed XML
    assert len(root.findall(f"{NS}rect")) == 4
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert {"5", "1", "0", "7", "Predicted label", "True label"} <= set(texts)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    titles = [t.text for t in root.iter(f"{NS}title")]
    assert "true dog, predicted dog: 7" in titles


def test_large_confusion_matrix_drops_the_numbers_not_the_cells():
    labels = [str(i) for i in range(40)]
    svg = confusion_svg(labels, [[1] * 40 for _ in labels])
    root = ET.fromstring(svg)
    assert len(root.findall(f"{NS}rect")) == 1600
    assert len(list(root.iter(f"{NS}text"))) == 2 + 40 + 40  # axes and labels only


def test_roc_svg_draws_each_curve_thinned_with_an_escaped_legend():
    points = [{"fpr": i / 999, "tpr": (i / 999) ** 0.3} for i in range(1000)]
    svg = roc_svg([{"label": EVIL, "points": points},
                   {"label": "b", "points": points[:2]}])  # fmt: skip
    root = ET.fromstring(svg)
    lines = root.findall(f"{NS}polyline")
    assert len(lines) == 2
    assert len(lines[0].get("points").split()) == 400  # thinned
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert root.findall(f"{NS}line")  # the chance diagonal
    assert "href" not in svg and "<foreignObject" not in svg
