"""Run details in Chromium: from a run-name click in the table, and RunView."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kfp_nb import Client
from kfp_nb.server._demo import _uid as demo_uid
from kfp_nb.widgets import RunTable, RunView

from ._harness import Harness
from ._panels import expect_no_page_errors, open_panel, reveal, wait_loaded

#: A finished churn-model run whose ``fail_task`` failed (tasks, error, timeline).
FAILED = demo_uid("run", "churn-model", 12)


@pytest.fixture(scope="module")
def read_client(read_server: Any):
    with Client(read_server.url) as c:
        yield c


def _task_ids(client: Client, run_id: str) -> set[str]:
    return set(client.tasks(run_id).task_id)


def test_name_click_opens_detail_with_tasks_and_timeline(
    page: Page, harness: Harness, read_client: Client, artifacts: Path
) -> None:
    panel = harness.show(lambda: RunTable(read_client, polling=False))
    errors = open_panel(page, panel)
    wait_loaded(panel)

    reveal(page, FAILED).get_by_test_id("run-link").click()
    pane = page.get_by_test_id("run-detail-pane")
    expect(pane).to_be_visible()
    detail = pane.get_by_test_id("kfp-run-detail")
    expect(detail).to_be_visible(timeout=10_000)
    expect(detail.get_by_test_id("detail-state")).to_contain_text(
        "Failed", ignore_case=True
    )
    nodes = detail.get_by_test_id("task-node")
    expect(nodes.first).to_be_visible()
    shown = set(nodes.evaluate_all("els => els.map(e => e.dataset.taskId)"))
    assert shown and shown <= _task_ids(read_client, FAILED)
    expect(detail.get_by_test_id("gantt-bar").first).to_be_visible()
    expect(detail.get_by_test_id("first-error")).to_contain_text("failed")
    page.screenshot(path=str(artifacts / "run_detail.png"), full_page=True)
    # The pane scrolls on its own: the tree and the timeline, further down.
    detail.get_by_test_id("gantt").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "run_detail_tasks.png"), full_page=True)

    pane.get_by_test_id("detail-close").click()
    expect(pane).to_be_hidden()
    expect_no_page_errors(errors)


def test_run_view_shows_fields_history_tasks_cached_bar(
    page: Page, harness: Harness, kfp: Client, artifacts: Path
) -> None:
    run = kfp.get_run(FAILED)
    tasks = kfp.tasks(FAILED)
    root = tasks.task_id[tasks.parent_task_id.isna()].iloc[0]
    # A cache hit, reported over HTTP the way a KFP driver does.
    cached = kfp.create_task(
        {
            "run_id": FAILED, "name": "cached-step", "display_name": "cached-step",
            "state": "CACHED", "parent_task_id": root,
            "create_time": run.created_at.isoformat(),
            "end_time": run.created_at.isoformat(),
        }
    ).task_id  # fmt: skip
    panel = harness.show(lambda: RunView(kfp, FAILED, polling=False))
    errors = open_panel(page, panel)

    view = page.get_by_test_id("kfp-run-view")
    expect(view).to_be_visible()
    detail = view.get_by_test_id("kfp-run-detail")
    expect(detail).to_contain_text(run.display_name, timeout=10_000)
    expect(detail.get_by_test_id("detail-state")).to_contain_text(
        "Failed", ignore_case=True
    )
    params = run.runtime_config.parameters
    expect(detail.get_by_test_id("detail-params")).to_contain_text("fail_task")
    expect(detail.get_by_test_id("detail-params")).to_contain_text(
        str(params["fail_task"])
    )
    history = detail.get_by_test_id("detail-history")
    for entry in run.state_history:
        expect(history).to_contain_text(entry.state, ignore_case=True)

    nodes = detail.get_by_test_id("task-node")
    expect(nodes.first).to_be_visible()
    shown = set(nodes.evaluate_all("els => els.map(e => e.dataset.taskId)"))
    assert cached in shown and shown <= _task_ids(kfp, FAILED)
    assert detail.get_by_test_id("gantt-bar").count() >= len(tasks)
    expect(
        detail.locator('[data-testid="gantt-bar"][data-cached="true"]')
    ).to_have_count(1)
    expect(detail.get_by_test_id("first-error")).to_contain_text(
        str(params["fail_task"])
    )
    expect(detail.get_by_test_id("task-artifacts")).to_contain_text("model")
    page.screenshot(path=str(artifacts / "run_view.png"), full_page=True)
    expect_no_page_errors(errors)
