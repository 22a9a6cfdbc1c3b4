"""Field case 38 for the client, generalised: any free text survives the round trip.

Names, descriptions and parameter values with markup, quotes, URL-significant
characters, right-to-left marks and 4-byte characters go through the client to
the embedded server and back unchanged, and find themselves by substring.
"""

from __future__ import annotations

import pytest

from tests._data import case

from ._faults import demo_spec

C38 = case("38")["request"]["body"]
TEXTS = [
    C38["display_name"],
    "\u202eevil.exe\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "50% off + a&b=c ?x#y /slash\\back",
    "%2F%25 already-encoded",
    "emoji \U0001f680\U0001f9ea\U0001f468\u200d\U0001f469\u200d\U0001f467 ok",
    'quotes \' " ` and {"json": [1]}',
    "tab\tand\nnewline",
    "\u00e9\u0301 combining, \ufb01 ligature, \u2028 separator",
]


@pytest.fixture
def made(client):
    runs = []
    for i, text in enumerate(TEXTS):
        run = client.create_run(
            display_name=f"{text} #{i}",
            description=f"{text}\n{C38['description']}",
            parameters={"note": text},
            pipeline_spec=demo_spec(),
        )
        runs.append(run.run_id)
    return runs


def test_case38_every_free_text_round_trips_exactly(client, made):
    for i, (run_id, text) in enumerate(zip(made, TEXTS, strict=True)):
        run = client.get_run(run_id)
        assert run.display_name == f"{text} #{i}"
        assert run.description == f"{text}\n{C38['description']}"
        assert run.runtime_config.parameters["note"] == text
    frame = client.runs(progress=False).set_index("run_id")
    for i, (run_id, text) in enumerate(zip(made, TEXTS, strict=True)):
        assert frame.loc[run_id, "display_name"] == f"{text} #{i}"
        assert frame.loc[run_id, "param.note"] == text


def test_case38_every_free_text_finds_itself_by_substring(client, made):
    for i, (run_id, text) in enumerate(zip(made, TEXTS, strict=True)):
        needle = f"{text} #{i}"
        found = client.runs(name_contains=needle, progress=False)
        assert found["run_id"].tolist() == [run_id], needle


def test_case38_markup_is_escaped_in_the_frames_html(client, made):
    html = client.runs(progress=False).to_html()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
