"""10,000 runs: the table stays virtualized and scrolls to the last run."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kfp_nb import Client
from kfp_nb.widgets import RunTable

from ._harness import Harness
from ._panels import (
    expect_no_page_errors,
    open_panel,
    shown_names,
    wait_for,
    wait_loaded,
)
from ._seed import bulk_name

COUNT = 10_000
#: "At most a few hundred row elements in the DOM" (issue 3).
MAX_ROW_ELEMENTS = 300


@pytest.fixture(scope="module")
def bulk_client(bulk_server: Any):
    with Client(bulk_server.url) as c:
        yield c


def _row_elements(page: Page) -> int:
    return page.locator('[data-testid="run-row"]').count()


def test_ten_thousand_runs_few_rows_in_dom_scroll_reaches_last(
    page: Page, harness: Harness, bulk_client: Client
) -> None:
    panel = harness.show(lambda: RunTable(bulk_client, page_size=1000, polling=False))
    errors = open_panel(page, panel)
    # Usable after the first page, long before the listing ends.
    expect(page.get_by_test_id("run-row").first).to_be_visible(timeout=15_000)
    assert wait_loaded(panel, timeout=60) == COUNT
    expect(page.get_by_test_id("row-count")).to_contain_text("10,000")
    assert _row_elements(page) <= MAX_ROW_ELEMENTS

    page.get_by_test_id("col-display_name").click()
    top = wait_for(lambda: (n := shown_names(page)) and n[0] in (
        bulk_name(0), bulk_name(COUNT - 1)) and n, what="sorted by name")  # fmt: skip
    last = bulk_name(COUNT - 1) if top[0] == bulk_name(0) else bulk_name(0)

    scroll = page.get_by_test_id("table-scroll")
    scroll.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    wait_for(lambda: shown_names(page)[-1:] == [last], what=f"{last} at the bottom")
    assert last not in top
    expect(page.locator(f'[data-testid="run-link"]:text-is("{last}")')).to_be_visible()
    assert _row_elements(page) <= MAX_ROW_ELEMENTS
    expect_no_page_errors(errors)
