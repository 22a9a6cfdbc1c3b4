"""Every viewer kind drawn in Chromium from a demo artifact, with a screenshot each.

Screenshots land in ``tests/artifacts/viewer_<kind>.png``. Each kind is also
checked for what makes it that viewer (cells of the matrix, the ROC curve and its
hover tooltip, the frame's script output, the hex dump, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

import kfp_nb
from kfp_nb import Client

from ._panels import expect_no_page_errors, open_panel
from ._viewers_page import (
    DemoArtifacts,
    RecordingHarness,
    compare_viewer,
    html_frame,
    recording_harness,
)


@pytest.fixture(scope="module")
def demo(read_server: Any) -> DemoArtifacts:
    return DemoArtifacts(read_server.url)


@pytest.fixture(scope="module")
def read_client(read_server: Any) -> Iterator[Client]:
    with Client(read_server.url) as c:
        yield c


@pytest.fixture
def rec(bundle: Any) -> Iterator[RecordingHarness]:
    yield from recording_harness()


def _metrics(page: Page, view: Locator) -> None:
    expect(view.get_by_test_id("metric-value").first).to_be_visible()
    assert view.get_by_test_id("metric-value").count() >= 6
    expect(view).to_contain_text("accuracy")


def _confusion(page: Page, view: Locator) -> None:
    cells = view.get_by_test_id("cm-cell")
    expect(cells).to_have_count(9)
    expect(view.get_by_test_id("cm-y-axis")).to_have_text("True label")
    for label in ("cat", "dog", "bird"):
        expect(view).to_contain_text(label)
    cells.nth(4).hover()


def _roc(page: Page, view: Locator) -> None:
    expect(view.get_by_test_id("roc-curve")).to_have_count(1)
    expect(view.get_by_test_id("roc-diagonal")).to_have_count(1)
    box = view.get_by_test_id("roc-svg").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.4)
    expect(view.get_by_test_id("roc-tooltip")).to_be_visible()
    expect(view.get_by_test_id("roc-tooltip")).to_contain_text(
        "threshold", ignore_case=True
    )


def _html(page: Page, view: Locator) -> None:
    frame = html_frame(page)
    frame.wait_for_selector("#status")
    expect(frame.locator("#status")).to_have_text("interactive page (script ran)")
    expect(frame.locator("h1")).to_have_text("Evaluation report")


def _markdown(page: Page, view: Locator) -> None:
    body = view.get_by_test_id("markdown-body")
    expect(body.locator("h1")).to_have_text("Run summary")
    assert body.locator("table tr").count() > 4


def _table(page: Page, view: Locator) -> None:
    rows = view.get_by_test_id("table-row")
    expect(rows.first).to_be_visible()
    assert 0 < rows.count() <= 1000
    expect(view.get_by_test_id("table-header").first).to_have_text("id")
    expect(view).to_contain_text("2,500")  # the total is named past the preview cap


def _image(page: Page, view: Locator) -> None:
    img = view.get_by_test_id("viewer-img")
    expect(img).to_be_visible()
    page.wait_for_function("img => img.naturalWidth === 160", arg=img.element_handle())


def _text(page: Page, view: Locator) -> None:
    expect(view.get_by_test_id("viewer-pre")).to_contain_text('"format"')


def _binary(page: Page, view: Locator) -> None:
    expect(view.get_by_test_id("binary-hex")).to_contain_text("4b 46 50 57")
    expect(view.get_by_test_id("binary-size")).to_contain_text("1")
    expect(view.get_by_test_id("viewer-download")).to_be_visible()


def _error(page: Page, view: Locator) -> None:
    expect(view).to_contain_text("row")
    assert view.get_by_test_id("cm-cell").count() == 0


def _too_large(page: Page, view: Locator) -> None:
    expect(view.get_by_test_id("too-large-message")).to_contain_text("html_max_bytes")
    assert page.get_by_test_id("html-frame").count() == 0
    # The download asks the kernel for the whole file and saves it as-is.
    with page.expect_download() as info:
        view.get_by_test_id("viewer-download").click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"<!DOCTYPE html>") and b"Evaluation report" in data


def _v1(page: Page, view: Locator) -> None:
    for kind in ("confusion_matrix", "roc", "table", "markdown", "html"):
        expect(view.get_by_test_id(f"viewer-{kind}").first).to_be_visible()
    # The web-app output is the same sandboxed frame; it loads once scrolled to.
    view.get_by_test_id("html-frame").scroll_into_view_if_needed()
    frame = html_frame(page)
    frame.wait_for_selector("#status")
    expect(frame.locator("#status")).to_have_text("interactive page (script ran)")


#: kind → (output key, edge-case run or None, test id of the drawn viewer, check)
KINDS: dict[str, tuple[str, int | None, str, Callable[[Page, Locator], None]]] = {
    "metrics": ("metrics", None, "viewer-metrics", _metrics),
    "confusion_matrix": (
        "classification_metrics", None, "viewer-confusion_matrix", _confusion
    ),
    "roc": ("classification_metrics", None, "viewer-roc", _roc),
    "html": ("report", None, "viewer-html", _html),
    "markdown": ("summary", None, "viewer-markdown", _markdown),
    "table": ("big_table", 0, "viewer-table", _table),
    "image": ("loss_plot", None, "viewer-image", _image),
    "text": ("model", None, "viewer-text", _text),
    "binary": ("weights_blob", 0, "viewer-binary", _binary),
    "error": ("malformed_confusion_matrix", 0, "kfp-artifact-viewer", _error),
    "v1_ui_metadata": ("mlpipeline-ui-metadata", None, "kfp-artifact-viewer", _v1),
    "too_large": ("report", None, "viewer-too_large", _too_large),
}  # fmt: skip
#: Caps set on the viewer of a kind (a small HTML cap turns a report into a download).
CAPS = {"too_large": {"html_max_bytes": 1000}}


def test_every_viewer_kind_renders_with_a_screenshot(
    page: Page, rec: RecordingHarness, demo: DemoArtifacts, read_client: Client,
    artifacts: Path,
) -> None:  # fmt: skip
    page.set_viewport_size({"width": 1100, "height": 900})
    for kind, (key, edge, testid, check) in KINDS.items():
        run = demo.edge_runs[edge] if edge is not None else None
        run_id, task_id = demo.find(key, run=run)
        caps = CAPS.get(kind, {})
        panel = rec.show(
            lambda r=run_id, t=task_id, k=key, c=caps: kfp_nb.ArtifactViewer(
                read_client.artifact(r, t, k), **c
            )
        )
        errors = open_panel(page, panel)
        view = page.get_by_test_id(testid).first
        expect(view).to_be_visible()
        try:
            check(page, view)
        except AssertionError as exc:
            raise AssertionError(f"viewer {kind} ({key}): {exc}") from exc
        expect_no_page_errors(errors)
        page.get_by_test_id("kfp-artifact-viewer").screenshot(
            path=str(artifacts / f"viewer_{kind}.png")
        )


def test_compare_overlays_curves_and_shows_matrices_side_by_side(
    page: Page, rec: RecordingHarness, demo: DemoArtifacts, read_client: Client,
    artifacts: Path,
) -> None:  # fmt: skip
    ids = demo.training_runs(3)
    panel = rec.show(lambda: compare_viewer(read_client, ids))
    errors = open_panel(page, panel)
    viewer = page.get_by_test_id("kfp-artifact-viewer")
    expect(viewer.get_by_test_id("viewer-table").first).to_be_visible()
    expect(viewer.get_by_test_id("roc-curve")).to_have_count(3)
    assert viewer.get_by_test_id("viewer-confusion_matrix").count() == 3
    expect_no_page_errors(errors)
    viewer.screenshot(path=str(artifacts / "viewer_compare.png"))
