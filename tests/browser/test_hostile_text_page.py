"""Hostile run texts in Chromium: shown as text, nothing runs, bidi stays contained.

The runs of ``tests/security/_hostile.py`` carry markup (``<img onerror>``,
``<script>``, attribute break-outs), Arabic and Hebrew with an unclosed U+202E
override, emoji ZWJ sequences and control characters in every user-set field.
They are drawn by the real panels in the harness page: the run table, the detail
pane opened from it, RunView (fields, parameters, history, first error, task
tree, Gantt labels, output artifacts) and the compare table. For each: no
payload ran (a global flag stays unset, no element or handler was created from
one), each text reads back exactly as stored, every element holding one is a
bidi isolate, and text after an overriding text is still drawn left to right.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

import kfp_nb
from kfp_nb import Client
from kfp_nb.server import launch
from kfp_nb.widgets import RunTable, RunView
from tests.security._hostile import FLAG, PAYLOADS, HostileRun, seed_hostile

from ._harness import Harness
from ._panels import (
    expect_no_page_errors,
    open_panel,
    reveal,
    wait_for,
    wait_loaded,
)

#: Elements or handlers a payload would create if parsed as HTML.
_INJECTED = """(flag) => ({
    flag: typeof window[flag] === 'undefined' ? null : String(window[flag]),
    pwned: document.body.dataset.pwned ?? null,
    elements: Array.from(document.querySelectorAll(
        'img[src="x"], script:not([type="module"]), svg[onload], a[href^="javascript"], b'
    )).filter((e) => e.tagName !== 'B' || e.textContent === 'bold?')
      .map((e) => e.outerHTML.slice(0, 80)),
    handlers: Array.from(document.querySelectorAll('*')).flatMap((e) =>
        Array.from(e.attributes).filter((a) => /^on/i.test(a.name))
            .map((a) => `${e.tagName}[${a.name}]`)),
})"""

#: Text nodes after one holding U+202E whose letters are drawn right to left.
_REORDERED = r"""(root) => {
    const nodes = [];
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) nodes.push(walk.currentNode);
    const box = (node, k) => {
        const range = document.createRange();
        range.setStart(node, k);
        range.setEnd(node, k + 1);
        return range.getBoundingClientRect();
    };
    const bad = [];
    nodes.forEach((node, i) => {
        if (!node.data.includes('\u202e')) return;
        for (const next of nodes.slice(i + 1, i + 4)) {
            const at = [];
            for (let k = 0; k < next.data.length && at.length < 2; k++) {
                if (/[A-Za-z0-9]/.test(next.data[k])) at.push(k);
            }
            if (at.length < 2) continue;
            const a = box(next, at[0]);
            const b = box(next, at[1]);
            if (!a.width || !b.width || Math.abs(a.top - b.top) > 2) continue;
            if (a.left > b.left) bad.push(`${JSON.stringify(next.data)} after ` +
                                          JSON.stringify(node.data));
        }
    });
    return bad;
}"""

#: Hostile texts followed by our words in one text node ("Task <name> failed"),
#: or next to inline text without being a bidi isolate.
#: Titles and labels holding one must wrap it in FSI ... PDI (U+2068, U+2069).
_NOT_ISOLATED = r"""([root, texts]) => {
    const bad = [];
    // The longest hostile text found ("task error X" holds "error X").
    const find = (value) => texts.filter((t) => value.includes(t))
        .sort((a, b) => b.length - a.length)[0];
    const inline = (n) => n.nodeType === Node.TEXT_NODE ? !!n.data.trim()
        : n.nodeType === Node.ELEMENT_NODE
          && getComputedStyle(n).display.startsWith('inline')
          && !!(n.textContent || '').trim();
    const isolated = (el) => /isolate|plaintext/.test(getComputedStyle(el).unicodeBidi)
        || el.tagName === 'BDI' || el.hasAttribute('dir');
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
        const node = walk.currentNode;
        const hit = find(node.data);
        if (hit === undefined) continue;
        const el = node.parentElement;
        const tag = `<${el.tagName.toLowerCase()} class="${el.className}">`;
        const after = node.data.slice(node.data.indexOf(hit) + hit.length);
        if (after.trim()) bad.push(`${tag} glues other text after it`);
        const display = getComputedStyle(el).display;
        const parent = el.parentElement;
        const own = parent && /flex|grid/.test(getComputedStyle(parent).display);
        if (!display.startsWith('inline') || own || !parent) continue;
        const next = Array.from(parent.childNodes).filter((n) => n !== el && inline(n));
        if (next.length && !isolated(el)) bad.push(`${tag} is not a bidi isolate`);
    }
    for (const el of root.querySelectorAll('[title], [aria-label]')) {
        for (const name of ['title', 'aria-label']) {
            const value = el.getAttribute(name) || '';
            const hit = find(value);
            if (hit === undefined || value === hit) continue;
            if (!value.includes('\u2068' + hit + '\u2069')) {
                bad.push(`${name}= of <${el.tagName.toLowerCase()}> not isolated`);
            }
        }
    }
    return bad;
}"""

#: A paragraph where an unisolated override reorders its neighbour: the check's
#: own positive control, and the same with the neighbour's holder isolated.
_CONTROL = """(isolate) => {
    const p = document.createElement('p');
    p.id = 'bidi-control';
    const a = document.createElement('span');
    a.textContent = 'x\u202eevil';
    if (isolate) a.style.unicodeBidi = 'isolate';
    const b = document.createElement('span');
    b.textContent = ' NEIGHBOUR';
    p.append(a, b);
    document.body.append(p);
    return p;
}"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = str(tmp_path_factory.mktemp("hostile-page") / "hostile.db")
    runs = seed_hostile(db)
    server = launch(db=db, demo=False, speed=5.0)
    try:
        with Client(server.url) as client:
            yield {"client": client, "runs": runs}
    finally:
        server.stop()


def _all_texts(runs: list[HostileRun]) -> list[str]:
    return [t for r in runs for t in r.texts()]


def _untouched(page: Page) -> None:
    found = page.evaluate(_INJECTED, FLAG)
    assert found == {"flag": None, "pwned": None, "elements": [], "handlers": []}


def _bidi_contained(page: Page, root: Locator, runs: list[HostileRun]) -> None:
    reordered = root.evaluate(_REORDERED)
    assert not reordered, f"text after an RTL override drawn reversed: {reordered}"
    handle = root.element_handle()
    loose = page.evaluate(_NOT_ISOLATED, [handle, _all_texts(runs)])
    assert not loose, f"hostile text in elements that are not bidi isolates: {loose}"


def _texts(root: Locator, selector: str) -> list[str]:
    return root.locator(selector).evaluate_all("els => els.map(e => e.textContent)")


def _check_detail(detail: Locator, run: HostileRun) -> None:
    """Each field of the run's detail reads back exactly as stored."""
    expect(detail.locator(".kfp-detail-name")).to_have_count(1)
    assert _texts(detail, ".kfp-detail-name") == [run.display_name]
    fields = detail.get_by_test_id("detail-fields")
    assert run.description in _texts(fields, "dd")
    params = detail.get_by_test_id("detail-params")
    assert run.param_key in _texts(params, "th")
    assert run.param_value in _texts(params, "td")
    history = detail.get_by_test_id("detail-history")
    assert _texts(history, ".kfp-detail-error-text") == [run.error]
    first = detail.get_by_test_id("first-error")
    assert _texts(first, ".kfp-detail-error-text") == [run.task_error]
    names = set(_texts(detail.get_by_test_id("task-tree"), ".kfp-task-name"))
    assert names & {run.task_display, run.task_name}, names
    labels = set(_texts(detail.get_by_test_id("gantt"), ".kfp-gantt-label"))
    assert labels & {run.task_display, run.task_name}, labels
    cells = _texts(detail.get_by_test_id("task-artifacts"), "td")
    assert run.output_key in cells and run.metric in cells


def test_bidi_check_finds_an_override_that_is_not_isolated(page: Page) -> None:
    page.set_content("<!doctype html><meta charset='utf-8'><body></body>")
    loose = page.evaluate_handle(_CONTROL, False)
    assert page.evaluate(_REORDERED, loose), "the check missed a reversed neighbour"
    page.evaluate("() => document.getElementById('bidi-control').remove()")
    tight = page.evaluate_handle(_CONTROL, True)
    assert page.evaluate(_REORDERED, tight) == []


def test_injection_check_sees_payloads_inserted_as_html(page: Page) -> None:
    body = "".join(f"<div>{PAYLOADS[f]}</div>" for f in ("img", "script", "attr"))
    page.set_content(f"<!doctype html><meta charset='utf-8'><body>{body}</body>")
    page.wait_for_function(f"() => window.{FLAG} !== undefined")
    with pytest.raises(AssertionError):
        _untouched(page)
    found = page.evaluate(_INJECTED, FLAG)
    assert found["flag"] == "1" and found["pwned"] == "1"
    assert len(found["elements"]) >= 4 and found["handlers"]


def test_run_table_and_detail_pane_show_hostile_text_as_text(
    page: Page, harness: Harness, hostile: dict, artifacts: Path
) -> None:
    client, runs = hostile["client"], hostile["runs"]
    panel = harness.show(lambda: RunTable(client, polling=False))
    errors = open_panel(page, panel)
    assert wait_loaded(panel) == len(runs)
    table = page.get_by_test_id("kfp-run-table")
    for run in runs:
        link = reveal(page, run.run_id).get_by_test_id("run-link")
        assert link.text_content() == run.display_name
    _bidi_contained(page, table, runs)

    pane = page.get_by_test_id("run-detail-pane")
    for run in runs:
        reveal(page, run.run_id).get_by_test_id("run-link").click()
        detail = pane.get_by_test_id("kfp-run-detail")
        expect(detail.locator(".kfp-detail-name")).to_have_text(
            run.display_name, timeout=10_000
        )
        _check_detail(detail, run)
        _bidi_contained(page, detail, runs)
        _untouched(page)
        if run.family == "rtl":
            page.screenshot(path=str(artifacts / "hostile_text.png"), full_page=True)
    _untouched(page)
    expect_no_page_errors(errors)


@pytest.mark.parametrize("family", ["img", "rtl", "emoji", "control"])
def test_run_view_shows_each_field_as_text(
    page: Page, harness: Harness, hostile: dict, family: str
) -> None:
    run = next(r for r in hostile["runs"] if r.family == family)
    panel = harness.show(lambda: RunView(hostile["client"], run.run_id, polling=False))
    errors = open_panel(page, panel)
    detail = page.get_by_test_id("kfp-run-view").get_by_test_id("kfp-run-detail")
    expect(detail.locator(".kfp-detail-name")).to_have_text(
        run.display_name, timeout=10_000
    )
    _check_detail(detail, run)
    _bidi_contained(page, page.get_by_test_id("kfp-run-view"), hostile["runs"])
    _untouched(page)
    expect_no_page_errors(errors)


def _fallback_pages(client: Client, runs: list[HostileRun]) -> dict[str, str]:
    """The static HTML kfp_nb writes for notebooks read without a kernel."""
    pages: dict[str, str] = {}
    table = RunTable(client, polling=False)
    try:
        wait_for(lambda: table.total == len(runs) and not table.loading
                 and table.loaded == table.total, what="the table")  # fmt: skip
        pages["RunTable text/html"] = table._repr_mimebundle_()[0]["text/html"]
    finally:
        table.close()
    for run in runs:
        view = RunView(client, run.run_id, polling=False)
        try:
            wait_for(lambda v=view: v.run is not None, what="the run view")
            pages[f"RunView text/html {run.family}"] = view._repr_mimebundle_()[0][
                "text/html"
            ]
        finally:
            view.close()
    frame = client.runs()
    pages["runs.to_html()"] = frame.to_html()
    pages["runs._repr_html_()"] = frame._repr_html_() or ""
    comparison = kfp_nb.compare(client, [r.run_id for r in runs])
    bundle = comparison._repr_mimebundle_()
    pages["Comparison text/html"] = (bundle[0] if isinstance(bundle, tuple)
                                     else bundle)["text/html"]  # fmt: skip
    pages["Comparison.to_frame().to_html()"] = comparison.to_frame().to_html()
    return pages


def test_static_fallbacks_render_as_text_in_chromium(page: Page, hostile: dict) -> None:
    client, runs = hostile["client"], hostile["runs"]
    pages = _fallback_pages(client, runs)
    expected = {
        "RunTable text/html": [r.display_name for r in runs],
        "runs.to_html()": [t for r in runs for t in (r.display_name, r.description,
                                                     r.param_value)],
        "Comparison text/html": [t for r in runs for t in (r.display_name, r.metric)],
        "Comparison.to_frame().to_html()": [r.metric for r in runs],
        **{f"RunView text/html {r.family}": [
            r.display_name, r.description, r.param_value, r.error]
           for r in runs},
    }  # fmt: skip
    for name, html in pages.items():
        page.set_content(f"<!doctype html><meta charset='utf-8'><body>{html}</body>")
        _untouched(page)
        shown = page.evaluate("() => document.body.textContent")
        for text in expected.get(name, []):
            # pandas writes tab/newline in cells as the two characters \t, \n.
            pandas = text.replace("\t", "\\t").replace("\n", "\\n")
            assert text in shown or pandas in shown, (name, text)
        body = page.locator("body")
        assert not body.evaluate(_REORDERED), name
        loose = page.evaluate(_NOT_ISOLATED, [body.element_handle(), _all_texts(runs)])
        assert not loose, (name, loose)


@pytest.mark.parametrize("family", ["img", "rtl"])
def test_panel_error_quoting_a_hostile_run_id(
    page: Page, harness: Harness, hostile: dict, family: str
) -> None:
    payload = PAYLOADS[family]
    panel = harness.show(lambda: RunView(hostile["client"], payload, polling=False))
    errors = open_panel(page, panel)
    banner = page.get_by_test_id("panel-error")
    expect(banner).to_contain_text("not found", timeout=10_000)
    words = banner.evaluate(
        """el => { const node = [...el.querySelectorAll('*'), el].flatMap(e =>
                       [...e.childNodes]).find(n => n.nodeType === 3
                       && n.data.includes('not found'));
                   const at = node.data.lastIndexOf('not found');
                   const box = k => { const r = document.createRange();
                       r.setStart(node, k); r.setEnd(node, k + 1);
                       return r.getBoundingClientRect().left; };
                   return [box(at), box(at + 4)]; }"""
    )
    assert words[0] < words[1], "'not found' is drawn right to left"
    text = banner.text_content() or ""
    assert payload.replace("\u202e", "\\u202e") in text, text
    assert not banner.evaluate(_REORDERED)
    _untouched(page)
    expect_no_page_errors(errors)


def test_compare_table_shows_run_and_metric_names_as_text(
    page: Page, harness: Harness, hostile: dict, artifacts: Path
) -> None:
    runs = hostile["runs"]
    panel = harness.show(
        lambda: kfp_nb.CompareView(
            kfp_nb.compare(hostile["client"], [r.run_id for r in runs])
        )
    )
    errors = open_panel(page, panel)
    viewer = page.get_by_test_id("kfp-artifact-viewer")
    expect(viewer.get_by_test_id("table-row").first).to_be_visible()
    headers = _texts(viewer, '[data-testid="table-header"]')
    cells = _texts(viewer, '[data-testid="table-row"] > *')
    for run in runs:
        assert run.display_name in headers, (run.family, headers)
        assert run.metric in cells, (run.family, cells)
    _bidi_contained(page, viewer, runs)
    _untouched(page)
    expect_no_page_errors(errors)
    viewer.screenshot(path=str(artifacts / "hostile_text_compare.png"))
