"""The run table in a real JupyterLab: Run All, click, and read the kernel back.

One JupyterLab server and one embedded demo server for the module; kernels find
the demo server through ``KFP_HOST``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from kfp_nb.server import launch

from ._lab import LabServer, notebook, open_notebook, run_all, run_cell

CELLS = (
    (
        "import kfp_nb\n"
        "client = kfp_nb.Client()\n"
        "table = kfp_nb.RunTable(client, polling=False)\n"
        "table"
    ),
    'print("SELECTED", sorted(table.selected))',
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    tmp = tmp_path_factory.mktemp("lab")
    server = launch(db=str(tmp / "demo.db"), demo=True, speed=5.0)
    lab = LabServer(tmp, env={"KFP_HOST": server.url})
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()
        server.stop()


@pytest.fixture(scope="module")
def lab_page(browser: Browser, lab: LabServer) -> Iterator[Page]:
    """One notebook, opened and Run All'd once for the module's tests."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, timezone_id="UTC", locale="en-US"
    )
    page = context.new_page()
    open_notebook(page, lab.add_notebook("table.ipynb", notebook(*CELLS)))
    run_all(page)
    try:
        expect(page.get_by_test_id("run-row").first).to_be_visible(timeout=60_000)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nJupyterLab log:\n{lab.log_tail()}") from exc
    yield page
    context.close()


def test_table_renders_and_sorts_in_lab(lab_page: Page, artifacts: Path) -> None:
    page = lab_page
    table = page.get_by_test_id("kfp-run-table")
    expect(table).to_have_count(1)
    expect(table.get_by_test_id("row-count")).to_contain_text(re.compile(r"\d"))
    names = table.get_by_test_id("run-link")
    expect(names.first).to_be_visible()

    table.get_by_test_id("col-display_name").click()
    first = names.first.text_content()
    table.get_by_test_id("col-display_name").click()
    expect(names.first).not_to_have_text(first or "")
    page.screenshot(path=str(artifacts / "run_table_lab.png"), full_page=True)


def test_selected_in_a_later_cell_equals_what_was_clicked(lab_page: Page) -> None:
    page = lab_page
    rows = page.get_by_test_id("run-row")
    picked: list[str] = []
    for index in (0, 2):
        target = rows.nth(index)
        picked.append(target.get_attribute("data-run-id") or "")
        target.get_by_test_id("row-select").click()
    assert all(picked)

    output = run_cell(page, 1)
    expect(output).to_have_text(f"SELECTED {sorted(picked)!r}", timeout=20_000)


def test_run_name_click_opens_detail_in_lab(lab_page: Page, artifacts: Path) -> None:
    page = lab_page
    page.get_by_test_id("run-link").first.click()
    pane = page.get_by_test_id("run-detail-pane")
    expect(pane.get_by_test_id("task-node").first).to_be_visible(timeout=20_000)
    expect(pane.get_by_test_id("gantt")).to_be_visible()
    page.screenshot(path=str(artifacts / "run_detail_lab.png"), full_page=True)
    pane.get_by_test_id("detail-close").click()
    expect(pane).to_be_hidden()


def test_no_kernel_errors_in_outputs(lab_page: Page) -> None:
    stderr = "application/vnd.jupyter.stderr"
    errors = lab_page.locator(f".jp-OutputArea-output[data-mime-type='{stderr}']")
    texts = [t for t in errors.all_text_contents() if "Traceback" in t or "Error" in t]
    assert not texts, texts
