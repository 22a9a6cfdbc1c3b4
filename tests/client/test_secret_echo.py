"""Credentials never leak through messages built from a response."""

from __future__ import annotations

import base64
import logging

import pytest

import kfp_nb

from ._mock import FakeServer, reply, run_body

TOKEN = "SeCrEtTok3nValue0123456789abcdef"
COOKIE = "c00kieValue-abcdef0123456789"
SECRETS = (TOKEN, COOKIE, TOKEN[:8], COOKIE[:8])


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert base64.b64encode(TOKEN.encode()).decode()[:12] not in text


def _client(fake: FakeServer):
    return fake.client(token=TOKEN, cookies={"authservice_session": COOKIE})


def _fail(fake: FakeServer, call=lambda c: c.list_runs()) -> Exception:
    with pytest.raises(kfp_nb.KFPError) as info:
        call(_client(fake))
    return info.value


@pytest.mark.parametrize(
    "location",
    [
        f"/dex/auth?state={TOKEN}&t={COOKIE}",
        f"https://user:{TOKEN}@login.example.org/auth#{COOKIE}",
        f"/pipeline/apis/v2beta1/runs/?x={TOKEN}",  # same host: not a login
    ],
)
def test_redirect_url_query_fragment_and_user_info_are_dropped(location, caplog):
    caplog.set_level(logging.DEBUG, logger="kfp_nb")
    fake = FakeServer().on("GET", ".*", reply(302, "", {"location": location}))
    error = _fail(fake)
    assert isinstance(error, (kfp_nb.LoginRedirect, kfp_nb.ResponseFormatError))
    _clean(str(error))
    assert "?" not in str(error).split("redirect")[-1].split(";")[0]
    _clean(caplog.text)


@pytest.mark.parametrize(
    "echo",
    [
        f"token {TOKEN[:11]}... is invalid",
        f"session {COOKIE[:9]} expired",
        f"bad basic auth {base64.b64encode(TOKEN.encode()).decode()}",
    ],
)
def test_echoed_prefix_or_base64_is_masked(echo):
    body = {"code": 16, "message": echo, "details": [{"message": echo}]}
    error = _fail(FakeServer().on("GET", ".*", reply(401, body)))
    assert isinstance(error, kfp_nb.Unauthenticated)
    _clean(str(error))
    _clean(str(error.message) + str(error.body))
    assert "***" in str(error)


def test_echo_in_a_non_json_body_and_a_header_is_masked():
    answer = reply(502, f"upstream said Bearer {TOKEN}", {"x-echo": TOKEN})
    error = _fail(FakeServer().on("GET", ".*", answer))
    _clean(str(error))


def test_warning_log_of_a_redirect_is_clean(caplog):
    caplog.set_level(logging.DEBUG, logger="kfp_nb")
    location = f"https://login.example.org/dex/auth?state={TOKEN}"
    fake = (
        FakeServer()
        .on("GET", r".*/runs", reply(200, {"runs": [run_body()], "total_size": 1}))
        .on("GET", r".*/experiments.*", reply(302, "", {"location": location}))
    )
    frame = _client(fake).runs()
    assert len(frame) == 1
    _clean(caplog.text)
    assert any(r.levelno == logging.WARNING for r in caplog.records)


def test_keys_of_an_unexpected_body_are_scrubbed():
    answer = reply(200, {TOKEN: 1, "other": 2})
    error = _fail(FakeServer().on("GET", ".*", answer), lambda c: c.get_run("r1"))
    assert isinstance(error, kfp_nb.ResponseFormatError) and "other" in str(error)
    _clean(str(error))
