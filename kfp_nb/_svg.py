"""Static SVG of ROC curves and confusion matrices, for saved notebooks.

The interactive viewers need a live kernel; these pictures are what a notebook
shows without one (nbviewer, GitHub, a reopened file). Every label is escaped;
the SVG holds no script, link or external reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["confusion_svg", "roc_svg"]

#: Colours of overlaid curves (colour-blind friendly, Okabe–Ito).
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#d55e00",
    "#cc79a7",
    "#56b4e9",
    "#f0e442",
    "#000000",
    "#999999",
    "#882255",
)
_MAX_POINTS = 400  # per curve: enough for a smooth line, small in the file
_FONT = 'font-family="sans-serif" font-size="11"'


def _thin(points: Sequence[Any], cap: int = _MAX_POINTS) -> list[Any]:
    if len(points) <= cap:
        return list(points)
    step = (len(points) - 1) / (cap - 1)
    return [points[round(i * step)] for i in range(cap)]


def roc_svg(curves: Sequence[dict[str, Any]], *, size: int = 280) -> str:
    """ROC curves (``[{label, points: [{fpr, tpr}]}]``) over the chance diagonal."""
    pad, legend = 36, 16 * len(curves)
    inner = size - pad - 10
    width, height = size, size + legend

    def xy(fpr: float, tpr: float) -> str:
        return f"{pad + fpr * inner:.1f},{10 + (1 - tpr) * inner:.1f}"

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="ROC curve">'
        ),
        (
            f'<rect x="{pad}" y="10" width="{inner}" height="{inner}" fill="#fff" '
            'stroke="#888"/>'
        ),
        (
            f'<line x1="{pad}" y1="{10 + inner}" x2="{pad + inner}" y2="10" '
            'stroke="#bbb" stroke-dasharray="4 3"/>'
        ),
        (
            f'<text x="{pad + inner / 2}" y="{size - 6}" text-anchor="middle" {_FONT}>'
            "False positive rate</text>"
        ),
        (
            f'<text x="10" y="{10 + inner / 2}" text-anchor="middle" {_FONT} '
            f'transform="rotate(-90 10 {10 + inner / 2})">True positive rate</text>'
        ),
    ]
    for tick in (0, 0.5, 1):
        parts.append(
            f'<text x="{pad + tick * inner}" y="{24 + inner}" '
            f'text-anchor="middle" {_FONT}>{tick:g}</text>'
        )
        parts.append(
            f'<text x="{pad - 4}" y="{14 + (1 - tick) * inner}" '
            f'text-anchor="end" {_FONT}>{tick:g}</text>'
        )
    for i, curve in enumerate(curves):
        colour = PALETTE[i % len(PALETTE)]
        points = " ".join(xy(p["fpr"], p["tpr"]) for p in _thin(curve["points"]))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{points}"/>'
        )
        y = size + 12 + 16 * i
        parts.append(
            f'<rect x="{pad}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{pad + 16}" y="{y}" {_FONT}>'
            f"{escape(str(curve.get('label', '')))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def confusion_svg(
    labels: Sequence[str], matrix: Sequence[Sequence[float]], *, cell: int = 0
) -> str:
    """A heat map: rows = true label, columns = predicted, counts in the cells.

    Cells are shaded by their share of the row, so classes of different sizes
    compare fairly.
    """
    n = len(labels)
    cell = cell or max(14, min(48, 480 // max(n, 1)))
    margin = min(140, 8 + 7 * max((len(str(x)) for x in labels), default=4))
    top = margin + 16
    width, height = margin + 16 + n * cell + 8, top + n * cell + 8
    show_counts = cell >= 28
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="Confusion matrix">'
        ),
        (
            f'<text x="{margin + 16 + n * cell / 2}" y="12" text-anchor="middle" '
            f"{_FONT}>Predicted label</text>"
        ),
        (
            f'<text x="10" y="{top + n * cell / 2}" text-anchor="middle" {_FONT} '
            f'transform="rotate(-90 10 {top + n * cell / 2})">True label</text>'
        ),
    ]
    x0 = margin + 16
    for j, label in enumerate(labels):
        x = x0 + j * cell + cell / 2
        parts.append(
            f'<text x="{x}" y="{top - 4}" text-anchor="start" {_FONT} '
            f'transform="rotate(-60 {x} {top - 4})">'
            f"{escape(str(label))[:20]}</text>"
        )
    for i, row in enumerate(matrix):
        y = top + i * cell
        parts.append(
            f'<text x="{x0 - 4}" y="{y + cell / 2 + 4}" text-anchor="end" '
            f"{_FONT}>{escape(str(labels[i]))[:20]}</text>"
        )
        total = sum(row) or 1
        for j, count in enumerate(row):
            share = count / total
            shade = tuple(round(255 + (c - 255) * share) for c in (8, 48, 107))
            ink = "#fff" if share > 0.5 else "#222"
            x = x0 + j * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="rgb{shade}"><title>true {escape(str(labels[i]))}, predicted '
                f"{escape(str(labels[j]))}: {count:g}</title></rect>"
            )
            if show_counts:
                parts.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" '
                    f'text-anchor="middle" fill="{ink}" {_FONT}>'
                    f"{count:g}</text>"
                )
    parts.append("</svg>")
    return "".join(parts)
