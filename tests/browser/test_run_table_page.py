"""The run table in Chromium, driven by a real RunTable against an embedded server.

The page holds only the built bundle and a stand-in model; every message goes to
the kernel-side widget in this process (see ``_harness.py``), which makes real
HTTP calls to a demo server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kfp_nb import Client
from kfp_nb.server._demo import _uid as demo_uid
from kfp_nb.widgets import RunTable

from ._harness import Harness
from ._panels import (
    all_ids,
    badge,
    expect_no_page_errors,
    open_panel,
    reveal,
    row,
    shown_ids,
    shown_names,
    wait_for,
    wait_loaded,
)

#: A churn-model run with two hours of work left: RUNNING until terminated.
LONG_RUNNING = demo_uid("run", "churn-model", 26)
#: A churn-model run whose task fails on the first attempt only.
FAILED = demo_uid("run", "churn-model", 12)
#: A finished, active churn-model run.
SUCCEEDED = demo_uid("run", "churn-model", 10)


@pytest.fixture(scope="module")
def read_client(read_server: Any):
    with Client(read_server.url) as c:
        yield c


def show_table(harness: Harness, client: Client, **options: Any):
    options.setdefault("poll_interval", 0.3)
    return harness.show(lambda: RunTable(client, **options))


def test_table_renders_every_active_run(
    page: Page, harness: Harness, read_client: Client, artifacts: Path
) -> None:
    panel = show_table(harness, read_client)
    errors = open_panel(page, panel)
    total = wait_loaded(panel)
    expected = read_client.runs(progress=False)
    assert total == len(expected)

    expect(page.get_by_test_id("kfp-run-table")).to_be_visible()
    for key in ("display_name", "state", "experiment_name", "created_at"):
        expect(page.get_by_test_id(f"col-{key}")).to_be_visible()
    expect(page.get_by_test_id("row-count")).to_contain_text(str(total))
    expect(page.get_by_test_id("time-zone")).to_contain_text("UTC")
    expect(page.get_by_test_id("run-row").first).to_be_visible()
    # Scrolling through the table meets every listed run exactly.
    assert all_ids(page) == set(expected.run_id)
    # Runs in a final state keep it, so their badges can be compared with a listing.
    final = expected[expected.state.isin(panel.get("rules")["final"])]
    for run in final.iloc[::10].itertuples():
        reveal(page, run.run_id)
        expect(badge(page, run.run_id)).to_have_attribute("data-state", str(run.state))
        expect(row(page, run.run_id).get_by_test_id("run-link")).to_have_text(
            run.display_name
        )
    page.get_by_test_id("table-scroll").evaluate("el => { el.scrollTop = 0; }")
    page.screenshot(path=str(artifacts / "run_table.png"), full_page=True)
    expect_no_page_errors(errors)


#: The table compares text as people read it ("Évaluation" next to "evaluation",
#: "run-9" before "run-10"): expected orders use the same collator, in the page.
_COLLATOR = 'new Intl.Collator("en", { numeric: true, sensitivity: "base" })'


def _collated(page: Page, names: list[str]) -> list[str]:
    return page.evaluate(f"names => names.slice().sort({_COLLATOR}.compare)", names)


def _same_text(page: Page, a: list[str], b: list[str]) -> bool:
    return page.evaluate(
        f"""([a, b]) => {{ const c = {_COLLATOR};
            return a.length === b.length && a.every((x, i) => c.compare(x, b[i]) === 0);
        }}""",
        [a, b],
    )


def test_sort_by_header_then_reverse(
    page: Page, harness: Harness, read_client: Client
) -> None:
    panel = show_table(harness, read_client)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    ascending = _collated(page, list(read_client.runs(progress=False).display_name))
    expect(page.get_by_test_id("run-row").first).to_be_visible()
    before = shown_names(page)

    def top_rows_follow(desc: bool) -> bool:
        drawn = shown_names(page)
        full = ascending[::-1] if desc else ascending
        return bool(drawn) and _same_text(page, drawn, full[: len(drawn)])

    page.get_by_test_id("col-display_name").click()
    wait_for(lambda: shown_names(page) != before, what="a new order")
    # The page redraws before its sort trait reaches the kernel: wait for both.
    sort = wait_for(lambda: (v := panel.get("sort"))["key"] == "display_name" and v,
                    what="the sort trait in the kernel")  # fmt: skip
    wait_for(lambda: top_rows_follow(sort["desc"]), what="rows sorted by name")

    page.get_by_test_id("col-display_name").click()
    wait_for(lambda: top_rows_follow(not sort["desc"]), what="the order reversed")
    reversed_sort = {"key": "display_name", "desc": not sort["desc"]}
    wait_for(lambda: panel.get("sort") == reversed_sort, what="the kernel's sort")
    expect_no_page_errors(errors)


def test_text_filter_narrows_rows(
    page: Page, harness: Harness, read_client: Client
) -> None:
    panel = show_table(harness, read_client)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    runs = read_client.runs(progress=False)
    wanted = set(runs.run_id[runs.display_name.str.contains("sweep-00")])
    assert 0 < len(wanted) < len(runs)

    page.get_by_test_id("text-filter").fill("SWEEP-00")  # case-insensitive
    wait_for(lambda: set(shown_ids(page)) == wanted, what="only the matching runs")
    assert wait_for(lambda: panel.get("text_filter").lower() == "sweep-00")
    page.get_by_test_id("text-filter").fill("")
    wait_for(lambda: len(shown_ids(page)) > len(wanted), what="every run again")
    assert all_ids(page) == set(runs.run_id)
    expect_no_page_errors(errors)


def test_selection_syncs_both_ways(
    page: Page, harness: Harness, read_client: Client
) -> None:
    panel = show_table(harness, read_client)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    expect(page.get_by_test_id("run-row").first).to_be_visible()
    ids = shown_ids(page)

    row(page, ids[1]).get_by_test_id("row-select").click()
    row(page, ids[4]).get_by_test_id("row-select").click(modifiers=["Shift"])
    wait_for(lambda: set(panel.get("selected")) == set(ids[1:5]), what="a range")

    panel.call(lambda w: w.select([ids[0]]))
    expect(row(page, ids[0]).get_by_test_id("row-select")).to_be_checked()
    expect(row(page, ids[2]).get_by_test_id("row-select")).not_to_be_checked()
    frame = panel.call(lambda w: w.selected_frame)
    assert list(frame.run_id) == [ids[0]]

    # Select-all takes every run the filters let through, drawn or not.
    page.get_by_test_id("select-all").click()
    everyone = set(panel.call(lambda w: list(w.frame.run_id)))
    wait_for(lambda: set(panel.get("selected")) == everyone, what="select-all")
    expect_no_page_errors(errors)


def test_terminate_shows_canceling_then_final(
    page: Page, harness: Harness, kfp: Client
) -> None:
    assert kfp.get_run(LONG_RUNNING).state == "RUNNING"
    panel = show_table(harness, kfp)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    reveal(page, LONG_RUNNING)
    expect(badge(page, LONG_RUNNING)).to_have_attribute("data-state", "RUNNING")

    row(page, LONG_RUNNING).get_by_test_id("row-select").click()
    expect(page.get_by_test_id("action-terminate")).to_be_enabled()
    expect(page.get_by_test_id("action-retry")).to_be_disabled()
    page.get_by_test_id("action-terminate").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("1")
    page.get_by_test_id("confirm-ok").click()

    expect(badge(page, LONG_RUNNING)).to_have_attribute(
        "data-state", "CANCELING", timeout=5_000
    )
    # The server ends it a second later; polling (every 0.3 s) brings it in.
    expect(badge(page, LONG_RUNNING)).to_have_attribute(
        "data-state", "FAILED", timeout=10_000
    )
    assert kfp.get_run(LONG_RUNNING).state == "FAILED"
    expect(page.get_by_test_id("action-summary")).to_contain_text("1")
    assert panel.get("last_action")["succeeded"] == 1
    # The click went through the protocol: one action request, one reply.
    request = [m for m in page.evaluate("() => window.__harness.model.sent")
               if m["data"].get("content", {}).get("kind") == "action"]  # fmt: skip
    assert [r["data"]["content"]["run_ids"] for r in request] == [[LONG_RUNNING]]
    (done,) = panel.messages("action_done")
    assert done["ok"] and done["results"][0]["run_id"] == LONG_RUNNING
    expect_no_page_errors(errors)


def test_retry_failed_run_shows_it_active(
    page: Page, harness: Harness, kfp: Client
) -> None:
    assert kfp.get_run(FAILED).state == "FAILED"
    panel = show_table(harness, kfp)
    errors = open_panel(page, panel)
    wait_loaded(panel)

    reveal(page, FAILED).get_by_test_id("row-select").click()
    expect(page.get_by_test_id("action-retry")).to_be_enabled()
    expect(page.get_by_test_id("action-terminate")).to_be_disabled()
    page.get_by_test_id("action-retry").click()
    active = panel.get("rules")["active"]
    expect(badge(page, FAILED)).not_to_have_attribute("data-state", "FAILED")
    assert badge(page, FAILED).get_attribute("data-state") in active
    assert kfp.get_run(FAILED).state != "FAILED"
    # A successful action leaves the selection.
    wait_for(lambda: FAILED not in panel.get("selected"), what="the selection to clear")
    expect_no_page_errors(errors)


def test_archive_hides_run_from_active_view(
    page: Page, harness: Harness, kfp: Client
) -> None:
    panel = show_table(harness, kfp)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    reveal(page, SUCCEEDED)

    row(page, SUCCEEDED).get_by_test_id("row-select").click()
    expect(page.get_by_test_id("action-restore")).to_be_disabled()
    page.get_by_test_id("action-archive").click()
    expect(row(page, SUCCEEDED)).to_have_count(0)
    assert kfp.get_run(SUCCEEDED).storage_state == "ARCHIVED"

    page.get_by_test_id("archived-toggle").select_option("archived")
    archived = len(kfp.runs(archived=True, progress=False))
    expect(page.get_by_test_id("row-count")).to_contain_text(
        f"{archived} of {archived}"
    )
    reveal(page, SUCCEEDED)
    expect(badge(page, SUCCEEDED)).to_have_attribute("data-state", "SUCCEEDED")
    expect_no_page_errors(errors)


def test_server_error_shows_in_panel(
    page: Page, harness: Harness, live_server: Any, kfp: Client
) -> None:
    panel = show_table(harness, kfp, polling=False)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    expect(page.get_by_test_id("panel-error")).to_be_hidden()

    live_server.stop()
    page.get_by_test_id("refresh").click()
    expect(page.get_by_test_id("panel-error")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("panel-error")).not_to_have_text("")
    assert panel.get("error")
    # The panel is still alive: its rows and controls are there.
    expect(page.get_by_test_id("run-row").first).to_be_visible()
    expect(page.get_by_test_id("text-filter")).to_be_enabled()
    expect_no_page_errors(errors)


def test_delete_asks_naming_the_count_then_removes(
    page: Page, harness: Harness, kfp: Client
) -> None:
    doomed = [demo_uid("run", "churn-model", i) for i in (14, 15)]
    panel = show_table(harness, kfp)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    panel.call(lambda w: w.select(doomed))
    for run_id in doomed:
        expect(reveal(page, run_id).get_by_test_id("row-select")).to_be_checked()

    page.get_by_test_id("action-delete").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text("2 runs")
    page.get_by_test_id("confirm-cancel").click()
    expect(dialog).to_be_hidden()
    assert [kfp.get_run(r).run_id for r in doomed] == doomed  # nothing was sent

    page.get_by_test_id("action-delete").click()
    page.get_by_test_id("confirm-ok").click()
    for run_id in doomed:
        expect(row(page, run_id)).to_have_count(0)
    assert set(kfp.runs(progress=False).run_id).isdisjoint(doomed)
    assert panel.get("selected") == []
    expect_no_page_errors(errors)


def test_live_updates_toggle_and_updated_at(
    page: Page, harness: Harness, read_client: Client
) -> None:
    panel = show_table(harness, read_client)
    errors = open_panel(page, panel)
    wait_loaded(panel)
    expect(page.get_by_test_id("updated-at")).to_contain_text("2")  # a date
    toggle = page.get_by_test_id("polling-toggle")
    expect(toggle).to_be_checked()
    toggle.click()
    wait_for(lambda: panel.get("polling") is False, what="polling off in the kernel")
    wait_for(lambda: not panel.call(lambda w: w.polling_active), what="the poller")
    panel.call(lambda w: setattr(w, "polling", True))
    expect(toggle).to_be_checked()
    expect_no_page_errors(errors)
