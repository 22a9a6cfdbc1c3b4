"""Compiled filters are accepted by the embedded server and select the right runs.

Runs and their states are set up in ``conftest.py`` (``seeded``); every listing
here goes over HTTP with the filter encoded as the KFP UI does (the server
percent-decodes ``filter`` once more after the query string).
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pandas as pd
import pytest

from kfp_nb._filters import compile_filter

ALL = {"alpha-訓練", "beta+gamma", "gamma 50%", "alpha two"}


def listed(http, **keywords) -> set[str]:
    """Display names of the runs ListRuns returns for ``compile_filter(**keywords)``."""
    compiled = compile_filter(**keywords)
    params: dict[str, object] = {"page_size": 200}
    if compiled is not None:
        text = json.dumps(compiled, separators=(",", ":"), ensure_ascii=False)
        params["filter"] = quote(text, safe="")
    response = http.get("/runs", params=params)
    assert response.status_code == 200, response.text
    return {run["display_name"] for run in response.json().get("runs", [])}


def _created(run) -> pd.Timestamp:
    return pd.Timestamp(run["created_at"])


def test_seeded_runs_are_what_the_tests_expect(seeded):
    _, runs = seeded
    states = {name: (run["state"], run["storage_state"]) for name, run in runs.items()}
    assert states == {
        "alpha-訓練": ("FAILED", "AVAILABLE"),
        "beta+gamma": ("SUCCEEDED", "AVAILABLE"),
        "gamma 50%": ("SUCCEEDED", "ARCHIVED"),
        "alpha two": ("FAILED", "AVAILABLE"),
    }
    assert _created(runs["gamma 50%"]) > _created(runs["beta+gamma"])


def test_archived(seeded):
    http, _ = seeded
    assert listed(http) == ALL - {"gamma 50%"}  # archived=False by default
    assert listed(http, archived=True) == {"gamma 50%"}
    assert listed(http, archived=None) == ALL


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("FAILED", {"alpha-訓練", "alpha two"}),
        ("succeeded", {"beta+gamma", "gamma 50%"}),
        (["FAILED", "SUCCEEDED"], ALL),
        (["SUCCEEDED", "CANCELED"], {"beta+gamma", "gamma 50%"}),
        ("RUNNING", set()),
    ],
)
def test_state(seeded, state, expected):
    http, _ = seeded
    assert listed(http, state=state, archived=None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpha", {"alpha-訓練", "alpha two"}),
        ("訓練", {"alpha-訓練"}),  # UTF-8 survives the double encoding
        ("+", {"beta+gamma"}),  # a literal plus is not turned into a space
        ("50%", {"gamma 50%"}),
        ("gamma", {"beta+gamma", "gamma 50%"}),
        ("no such run", set()),
    ],
)
def test_name_contains(seeded, text, expected):
    http, _ = seeded
    assert listed(http, name_contains=text, archived=None) == expected


def test_created_bounds_in_every_form(seeded):
    http, runs = seeded
    split = _created(runs["gamma 50%"])  # at least a second after the first two
    later = {"gamma 50%", "alpha two"}
    earlier = {"alpha-訓練", "beta+gamma"}
    forms = [
        split,
        split.to_pydatetime(),
        split.tz_convert(None).to_pydatetime(),  # naive = UTC
        split.isoformat(),
        split.tz_convert("Asia/Tokyo").isoformat(),
    ]
    for bound in forms:
        assert listed(http, created_after=bound, archived=None) == later, bound
        assert listed(http, created_before=bound, archived=None) == earlier, bound
    # A bound inside the second before is rounded up to the same split.
    inside = split - timedelta(milliseconds=1)
    assert listed(http, created_after=inside, archived=None) == later
    start = _created(runs["alpha-訓練"])
    assert listed(http, created_after=start, created_before=split) == earlier
    assert listed(http, created_after=split + timedelta(days=1)) == set()


def test_every_keyword_at_once(seeded):
    http, runs = seeded
    assert listed(
        http,
        state=["FAILED", "PAUSED"],
        name_contains="訓練",
        created_after=_created(runs["alpha-訓練"]).date(),
        created_before=_created(runs["gamma 50%"]),
        archived=False,
    ) == {"alpha-訓練"}


def test_raw_filter_merged_with_keywords(seeded):
    http, runs = seeded
    raw = {"predicates": [{"key": "display_name", "operation": 9,
                           "stringValue": "alpha"}]}
    assert listed(http, filter=raw, state="FAILED") == {"alpha-訓練", "alpha two"}
    assert listed(http, filter=raw, state="SUCCEEDED") == set()
    archived = '{"predicates":[{"key":"storage_state","operation":"EQUALS",' \
        '"string_value":"ARCHIVED"}]}'
    assert listed(http, filter=archived) == {"gamma 50%"}  # replaces archived=False
    seconds = int(_created(runs["gamma 50%"]).timestamp())
    numeric = {"predicates": [{"key": "created_at", "operation": 5,
                               "long_value": seconds}]}
    assert listed(http, filter=numeric, archived=None) == {"gamma 50%", "alpha two"}
    in_ids = {"predicates": [{"key": "run_id", "operation": "IN", "string_values": {
        "values": [runs["beta+gamma"]["run_id"], runs["alpha two"]["run_id"]]}}]}
    assert listed(http, filter=in_ids) == {"beta+gamma", "alpha two"}


def test_fractional_raw_timestamp_is_accepted(seeded):
    http, runs = seeded
    moment = _created(runs["gamma 50%"]) + timedelta(microseconds=500_000)
    naive = moment.tz_convert(None).isoformat()  # no zone: written back with Z
    raw = {"predicates": [{"key": "created_at", "operation": "LESS_THAN",
                           "timestamp_value": naive}]}
    got = listed(http, filter=raw, archived=None)
    # The server truncates to seconds: strictly before gamma's own second.
    assert got == {"alpha-訓練", "beta+gamma"}


def _pages(http, compiled, *, resend: bool) -> list[str]:
    text = quote(json.dumps(compiled, separators=(",", ":"), ensure_ascii=False),
                 safe="")
    names, token = [], None
    for _ in range(10):
        params = {"page_size": 1}
        if token is None or resend:
            params["filter"] = text
        if token:
            params["page_token"] = token
        response = http.get("/runs", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        names += [run["display_name"] for run in body.get("runs", [])]
        token = body.get("next_page_token")
        if not token:
            return names
    raise AssertionError("the listing did not end in 10 pages")


def test_compiled_filters_hold_across_pages(seeded):
    http, runs = seeded
    # String-only predicates may be sent again with the page token (as the UI does).
    strings = compile_filter(state=["FAILED", "SUCCEEDED"], name_contains="a")
    assert sorted(_pages(http, strings, resend=True)) == sorted(ALL - {"gamma 50%"})
    # With a time bound, send the filter on the first page only: the real server
    # may call a re-sent timestamp filter different from the one in the token.
    timed = compile_filter(created_after=_created(runs["alpha-訓練"]), archived=None)
    assert sorted(_pages(http, timed, resend=False)) == sorted(ALL)
