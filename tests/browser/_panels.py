"""Helpers for driving the panels in a page: opening, rows, states, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page

from ._harness import Panel

__all__ = [
    "all_ids",
    "badge",
    "expect_no_page_errors",
    "open_panel",
    "reveal",
    "row",
    "shown_ids",
    "shown_names",
    "wait_for",
    "wait_loaded",
]


def open_panel(page: Page, panel: Panel) -> list[str]:
    """Load ``panel`` in ``page``; returns the list page errors are collected in."""
    errors: list[str] = []
    page.set_default_timeout(10_000)  # actions; failures should not hang 30 s each
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(panel.url)
    page.wait_for_function(
        "() => window.__harnessReady || window.__harnessError", timeout=15_000
    )
    failure = page.evaluate("() => window.__harnessError || ''")
    assert not failure, f"the panel did not mount: {failure}"
    return errors


def wait_for(
    check: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition"
) -> Any:
    """Poll ``check()`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def wait_loaded(panel: Panel, *, timeout: float = 30.0) -> int:
    """Wait until the kernel side has every run of its listing; returns the total."""

    def done() -> int | None:
        loading, loaded, total = panel.call(lambda w: (w.loading, w.loaded, w.total))
        return total or -1 if not loading and loaded == total else None

    total = wait_for(done, timeout=timeout, what="the listing to finish loading")
    return max(total, 0)


def row(page: Page, run_id: str) -> Locator:
    return page.locator(f'[data-testid="run-row"][data-run-id="{run_id}"]')


def badge(page: Page, run_id: str) -> Locator:
    """The state badge of a run's row (``data-state`` holds the raw state)."""
    return row(page, run_id).locator(".kfp-badge")


def shown_ids(page: Page) -> list[str]:
    """Run ids of the rows drawn, top to bottom as the user sees them."""
    return page.locator('[data-testid="run-row"]').evaluate_all(
        """rows => rows
            .filter(r => r.offsetParent !== null && r.dataset.runId)
            .map(r => [r.getBoundingClientRect().top, r.dataset.runId])
            .sort((a, b) => a[0] - b[0]).map(p => p[1])"""
    )


def shown_names(page: Page) -> list[str]:
    """Run names of the rows drawn, top to bottom."""
    return page.locator('[data-testid="run-row"]').evaluate_all(
        """rows => rows
            .filter(r => r.offsetParent !== null && r.dataset.runId)
            .map(r => [r.getBoundingClientRect().top,
                       r.querySelector('[data-testid="run-link"]').textContent])
            .sort((a, b) => a[0] - b[0]).map(p => p[1])"""
    )


def expect_no_page_errors(errors: list[str]) -> None:
    assert not errors, f"errors in the page: {errors}"


def reveal(page: Page, run_id: str) -> Locator:
    """Scroll the table until ``run_id``'s row is drawn mid-way, and return it.

    Row elements are pooled: scrolling hands each element another run. The row is
    centred here, so that Playwright's own scroll-into-view (which would scroll
    the container and re-assign the element under the pointer) is not needed.
    """
    target = row(page, run_id)
    scroll = page.get_by_test_id("table-scroll")
    scroll.evaluate("el => { el.scrollTop = 0; }")
    for _ in range(1000):
        page.wait_for_timeout(20)  # a frame for the window to redraw
        if target.count():
            break
        if _page_down(scroll):
            raise AssertionError(f"run {run_id} has no row in the table")
    for _ in range(3):
        scroll.evaluate(
            """(el, id) => {
                const r = el.querySelector(`[data-testid="run-row"][data-run-id="${id}"]`);
                if (!r) return;
                const top = r.getBoundingClientRect().top - el.getBoundingClientRect().top;
                el.scrollTop += top - el.clientHeight / 2;
            }""",
            run_id,
        )
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        if target.count() and target.is_visible():
            return target
    raise AssertionError(f"run {run_id}'s row did not settle in view")


def _page_down(scroll: Locator) -> bool:
    """Scroll one screen down; True when already at the end."""
    return scroll.evaluate(
        """el => { const before = el.scrollTop;
                   el.scrollTop = before + Math.max(el.clientHeight - 60, 30);
                   return el.scrollTop === before; }"""
    )


def all_ids(page: Page) -> set[str]:
    """Every run id the table can show, collected by scrolling top to bottom."""
    scroll = page.get_by_test_id("table-scroll")
    scroll.evaluate("el => { el.scrollTop = 0; }")
    seen: set[str] = set()
    for _ in range(1000):
        page.wait_for_timeout(30)
        seen.update(shown_ids(page))
        if _page_down(scroll):
            break
    scroll.evaluate("el => { el.scrollTop = 0; }")
    return seen
