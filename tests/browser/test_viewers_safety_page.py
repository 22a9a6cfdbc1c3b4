"""Artifact viewers in Chromium: hostile content stays inert, names stay text.

The viewers render demo artifacts of the "Viewer edge cases" pipeline in the
panel harness (a plain page on 127.0.0.1 standing in for the notebook origin).
The harness server logs every request, so "nothing reached the notebook server"
is checked on the server side, not only from inside the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import kfp_nb
from kfp_nb import Client

from ._panels import expect_no_page_errors, open_panel
from ._viewers_page import (
    CANARY_GLOBAL,
    DemoArtifacts,
    RecordingHarness,
    compare_viewer,
    html_frame,
    page_state,
    probe_report,
    recording_harness,
)

#: Every way out of the frame the hostile page tries; each must be refused.
BLOCKED_PROBES = (
    "parent_document", "parent_globals", "top_location_read", "cookie_read",
    "cookie_write", "local_storage", "session_storage", "window_open",
    "top_navigation", "fetch_get", "fetch_api", "fetch_post",
)  # fmt: skip
SECRET = "kfp-nb-session-secret"
_NOT_LOOPBACK = re.compile(r"^(?!https?://127\.0\.0\.1[:/])[a-z]+://")


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


@pytest.fixture
def guarded_page(page: Page) -> Iterator[dict[str, list]]:
    """The page, with popups and dialogs recorded and non-loopback traffic refused."""
    seen: dict[str, list] = {"popups": [], "dialogs": [], "outside": []}
    page.context.on("page", lambda p: seen["popups"].append(p.url))

    def on_dialog(dialog: Any) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def refuse(route: Any) -> None:
        seen["outside"].append(route.request.url)
        route.abort()

    page.context.route(_NOT_LOOPBACK, refuse)
    yield seen


def _viewer(client: Client, run_id: str, task_id: str, name: str) -> Any:
    return kfp_nb.ArtifactViewer(client.artifact(run_id, task_id, name))


def _open(
    page: Page, rec: RecordingHarness, client: Client, where: tuple[str, str],
    name: str,
) -> list[str]:  # fmt: skip
    """Seed the notebook origin's cookie and storage, then show the viewer."""
    page.context.add_cookies([{"name": "kfp_nb_session", "value": SECRET,
                               "url": rec.url}])  # fmt: skip
    page.goto(rec.url + "/seed-origin")  # any page of the origin, to set storage
    page.evaluate("() => localStorage.setItem('kfp_nb_mine', 'kept')")
    run_id, task_id = where
    panel = rec.show(lambda: _viewer(client, run_id, task_id, name))
    return open_panel(page, panel)


def _untouched(page: Page, rec: RecordingHarness, before_url: str) -> None:
    state = page_state(page)
    assert state["url"] == before_url, "the page was navigated"
    assert state["canary"] is None, f"payload ran in the page: {state['canary']}"
    assert state["marked"] is None, "the parent document was changed"
    assert state["cookie"] == f"kfp_nb_session={SECRET}", state["cookie"]
    assert state["storage"] == '[["kfp_nb_mine","kept"]]', state["storage"]
    assert state["session"] == "[]", state["session"]
    assert not rec.canary_hits(), f"requests from the artifact: {rec.canary_hits()}"


def test_hostile_html_cannot_reach_outside_its_frame(
    page: Page, rec: RecordingHarness, guarded_page: dict, demo: DemoArtifacts,
    read_client: Client, artifacts: Any,
) -> None:  # fmt: skip
    errors = _open(page, rec, read_client, demo.find("hostile_html"), "hostile_html")
    url = page.url
    frame_el = page.get_by_test_id("html-frame")
    expect(frame_el).to_have_count(1)
    assert (frame_el.get_attribute("sandbox") or "").split() == ["allow-scripts"]
    assert frame_el.get_attribute("src") is None
    assert "Hostile report" in (frame_el.get_attribute("srcdoc") or "")
    assert page.locator("#probe").count() == 0, "artifact markup in the page itself"

    frame = html_frame(page)
    report = probe_report(frame)
    # Scripts do run, and the data: image renders — inside the frame only.
    expect(frame.locator("#status")).to_have_text("script ran inside the sandbox")
    assert frame.locator("img").evaluate("img => img.naturalWidth") == 1
    for probe in BLOCKED_PROBES:
        assert report[probe].startswith("blocked"), (probe, report[probe])
    assert SECRET not in json.dumps(report)

    # A javascript: link runs, if at all, in the frame's own opaque origin.
    frame.locator("#js-link").click()
    page.wait_for_timeout(300)
    _untouched(page, rec, url)
    assert not guarded_page["popups"] and not guarded_page["dialogs"]
    assert not guarded_page["outside"], guarded_page["outside"]
    page.get_by_test_id("kfp-artifact-viewer").screenshot(
        path=str(artifacts / "viewer_html_hostile.png")
    )
    expect_no_page_errors(errors)


def _markdown_dom(page: Page) -> dict[str, Any]:
    return page.get_by_test_id("markdown-body").evaluate(
        """body => ({
            scripts: body.querySelectorAll('script').length,
            active: body.querySelectorAll('iframe,frame,object,embed,form,' +
                'button,input,style,svg,base,meta').length,
            handlers: [...body.querySelectorAll('*')].flatMap(el =>
                [...el.attributes].filter(a => a.name.toLowerCase().startsWith('on'))
                    .map(a => el.tagName + '.' + a.name)),
            hrefs: [...body.querySelectorAll('[href]')]
                .map(e => e.getAttribute('href')),
            srcs: [...body.querySelectorAll('[src]')].map(e => e.getAttribute('src')),
            text: body.textContent,
        })"""
    )


def test_markdown_with_script_onerror_and_js_links_executes_nothing(
    page: Page, rec: RecordingHarness, guarded_page: dict, demo: DemoArtifacts,
    read_client: Client,
) -> None:  # fmt: skip
    run = demo.edge_runs[1]
    where = demo.find("unsafe_markdown", run=run)
    errors = _open(page, rec, read_client, where, "unsafe_markdown")
    url = page.url
    body = page.get_by_test_id("markdown-body")
    expect(body.locator("h1")).to_have_text("Notes with unsafe markup")
    expect(body.locator("strong").first).to_have_text("bold")

    dom = _markdown_dom(page)
    assert dom["scripts"] == 0 and dom["active"] == 0, dom
    assert dom["handlers"] == [], dom["handlers"]
    assert all(
        re.match(r"(https?:|mailto:|#)", h, re.IGNORECASE) for h in dom["hrefs"]
    ), dom
    assert "x" not in dom["srcs"], dom["srcs"]
    assert "訓練 🚀" in dom["text"]

    # The neutralised links stay clickable text: clicking runs and opens nothing.
    for text in ("a javascript: link", "mixed-case scheme", "raw HTML link"):
        link = body.get_by_text(text)
        expect(link).to_have_count(1)
        link.click()
    page.wait_for_timeout(300)
    _untouched(page, rec, url)
    assert not guarded_page["popups"] and not guarded_page["dialogs"]
    assert not guarded_page["outside"], guarded_page["outside"]
    expect_no_page_errors(errors)


def test_svg_with_script_shows_as_an_inert_picture(
    page: Page, rec: RecordingHarness, guarded_page: dict, demo: DemoArtifacts,
    read_client: Client,
) -> None:  # fmt: skip
    where = demo.find("unsafe_svg", run=demo.edge_runs[1])
    errors = _open(page, rec, read_client, where, "unsafe_svg")
    url = page.url
    viewer = page.get_by_test_id("kfp-artifact-viewer")
    picture = viewer.locator("img")
    expect(picture).to_have_count(1)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    assert viewer.locator("svg script, script").count() == 0
    page.wait_for_timeout(200)
    _untouched(page, rec, url)
    expect_no_page_errors(errors)


def test_metric_names_with_markup_are_shown_as_text(
    page: Page, rec: RecordingHarness, guarded_page: dict, demo: DemoArtifacts,
    read_client: Client,
) -> None:  # fmt: skip
    where = demo.find("odd_metric_names", run=demo.edge_runs[0])
    errors = _open(page, rec, read_client, where, "odd_metric_names")
    url = page.url
    viewer = page.get_by_test_id("viewer-metrics")
    expect(viewer).to_be_visible()
    text = viewer.text_content() or ""
    for name in (
        f"<img src=x onerror=\"window.{CANARY_GLOBAL}='metric'\">",
        "訓練 accuracy 🚀",
        'a & b "quoted" </td>',
        "Évaluation — précision",
    ):
        assert name in text, name
    assert viewer.locator("img, script").count() == 0
    page.wait_for_timeout(200)
    _untouched(page, rec, url)
    expect_no_page_errors(errors)


def test_run_names_with_markup_are_shown_as_text_in_compare(
    page: Page, rec: RecordingHarness, guarded_page: dict, demo: DemoArtifacts,
    read_client: Client,
) -> None:  # fmt: skip
    names = [r["display_name"] for r in demo.edge_runs]
    ids = [r["run_id"] for r in demo.edge_runs] + demo.training_runs(1)
    page.context.add_cookies([{"name": "kfp_nb_session", "value": SECRET,
                               "url": rec.url}])  # fmt: skip
    page.goto(rec.url + "/seed-origin")
    page.evaluate("() => localStorage.setItem('kfp_nb_mine', 'kept')")
    panel = rec.show(lambda: compare_viewer(read_client, ids))
    errors = open_panel(page, panel)
    url = page.url
    viewer = page.get_by_test_id("kfp-artifact-viewer")
    expect(viewer.get_by_test_id("viewer-table").first).to_be_visible()
    text = viewer.text_content() or ""
    for name in names:
        assert name in text, name
    assert viewer.locator("img, script").count() == 0
    page.wait_for_timeout(200)
    _untouched(page, rec, url)
    expect_no_page_errors(errors)


def test_run_names_with_markup_are_text_in_run_table_and_run_view(
    page: Page, rec: RecordingHarness, guarded_page: dict, demo: DemoArtifacts,
    read_client: Client,
) -> None:  # fmt: skip
    from kfp_nb.widgets import RunTable, RunView

    runs = demo.edge_runs
    page.context.add_cookies([{"name": "kfp_nb_session", "value": SECRET,
                               "url": rec.url}])  # fmt: skip
    page.goto(rec.url + "/seed-origin")
    page.evaluate("() => localStorage.setItem('kfp_nb_mine', 'kept')")
    exp_id = runs[0]["experiment_id"]
    table = rec.show(lambda: RunTable(read_client, experiment_id=exp_id, polling=False))
    errors = open_panel(page, table)
    url = page.url
    links = page.get_by_test_id("run-link")
    expect(links).to_have_count(2)
    assert sorted(links.all_text_contents()) == sorted(r["display_name"] for r in runs)
    root = page.get_by_test_id("kfp-run-table")
    assert root.locator("img, script, i, b").count() == 0
    _untouched(page, rec, url)
    expect_no_page_errors(errors)

    view = rec.show(lambda: RunView(read_client, runs[0]["run_id"], polling=False))
    errors = open_panel(page, view)
    url = page.url
    name = page.locator(".kfp-detail-name")
    expect(name).to_have_text(runs[0]["display_name"])
    expect(page.get_by_test_id("detail-fields")).to_contain_text("line2 <b>bold?</b>")
    assert page.locator(".kfp-detail-header img, .kfp-detail-fields b").count() == 0
    page.wait_for_timeout(200)
    _untouched(page, rec, url)
    assert not guarded_page["dialogs"], guarded_page["dialogs"]
    expect_no_page_errors(errors)


def test_hostile_html_opened_from_the_run_view_stays_in_its_frame(
    page: Page, rec: RecordingHarness, guarded_page: dict, demo: DemoArtifacts,
    read_client: Client, artifacts: Any,
) -> None:  # fmt: skip
    from kfp_nb.widgets import RunView

    run = demo.edge_runs[0]
    run_id, task_id = demo.find("hostile_html", run=run)
    page.context.add_cookies([{"name": "kfp_nb_session", "value": SECRET,
                               "url": rec.url}])  # fmt: skip
    page.goto(rec.url + "/seed-origin")
    page.evaluate("() => localStorage.setItem('kfp_nb_mine', 'kept')")
    view = rec.show(lambda: RunView(read_client, run_id, polling=False))
    errors = open_panel(page, view)
    url = page.url
    row = page.locator(f'tr[data-task-id="{task_id}"]', has_text="hostile_html")
    row.get_by_role("button", name="Open").click()
    pane = page.get_by_test_id("artifact-pane")
    expect(pane).to_be_visible()
    frame_el = pane.get_by_test_id("html-frame")
    expect(frame_el).to_have_count(1)
    assert (frame_el.get_attribute("sandbox") or "").split() == ["allow-scripts"]
    report = probe_report(html_frame(page))
    for probe in BLOCKED_PROBES:
        assert report[probe].startswith("blocked"), (probe, report[probe])
    page.wait_for_timeout(200)
    _untouched(page, rec, url)
    assert not guarded_page["popups"] and not guarded_page["dialogs"]
    pane.scroll_into_view_if_needed()
    pane.screenshot(path=str(artifacts / "viewer_run_view_pane.png"))
    pane.get_by_test_id("artifact-close").click()
    expect(pane).to_be_hidden()
    expect_no_page_errors(errors)
