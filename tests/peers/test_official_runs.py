"""The official kfp-server-api client against the embedded server: runs.

Every ``RunServiceApi`` method 2.17.x has (create, get, list, archive,
unarchive, terminate, retry, delete), plus healthz and experiments, over real
HTTP on loopback. Responses are the official models, so these tests also show
that what the server writes deserializes in the official client.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import kfp_server_api as kfp
import pytest
from kfp_server_api.rest import ApiException

from ._official import (
    EPOCH,
    EQUALS,
    IS_SUBSTRING,
    SWEEP,
    TRAINING,
    error_body,
    new_run,
    sdk_filter,
    wait_run,
)


def _detail(body: dict) -> str:
    return body["details"][0]["message"]


def _default_experiment(experiments: kfp.ExperimentServiceApi) -> kfp.V2beta1Experiment:
    found = experiments.experiment_service_list_experiments(
        filter=sdk_filter(("display_name", EQUALS, "Default"))
    )
    assert found.total_size == 1, found
    return found.experiments[0]


def _all_pages(
    runs: kfp.RunServiceApi, *, resend: bool = True, **query
) -> tuple[list[kfp.V2beta1Run], set]:
    """Follow ``next_page_token`` to the end.

    ``resend``: send the same sort and filter with every token, as a naive SDK
    loop does; else only the token and page size (SEMANTICS.md §5).
    """
    seen, totals, token = [], set(), None
    for _ in range(50):
        if token and not resend:
            page = runs.run_service_list_runs(
                page_token=token, page_size=query.get("page_size")
            )
        else:
            page = runs.run_service_list_runs(page_token=token, **query)
        assert isinstance(page, kfp.V2beta1ListRunsResponse)
        seen.extend(page.runs or [])
        totals.add(page.total_size)
        token = page.next_page_token
        if not token:
            return seen, totals
    raise AssertionError("pagination did not end within 50 pages")


def test_healthz_reports_single_user_database_store(official):
    health = kfp.HealthzServiceApi(official).healthz_service_get_healthz()
    assert isinstance(health, kfp.V2beta1GetHealthzResponse)
    assert health.multi_user is False
    assert health.pipeline_store == "database"


def test_create_run_with_compiled_spec_then_it_succeeds(runs, experiments):
    params = {"learning_rate": 0.05, "epochs": 3, "optimizer": "adam"}
    name = f"official-create-{uuid.uuid4().hex[:6]}"
    created = new_run(runs, name, params=params)

    assert isinstance(created, kfp.V2beta1Run)
    assert created.display_name == name
    assert created.state == "PENDING"
    assert created.storage_state == "AVAILABLE"
    assert created.experiment_id == _default_experiment(experiments).experiment_id
    assert created.runtime_config.parameters == params
    assert created.pipeline_spec == TRAINING
    assert created.pipeline_version_reference is None
    # The official client turns the "not finished" epoch into a real datetime.
    assert created.finished_at == EPOCH
    assert created.scheduled_at == created.created_at
    assert [h.state for h in created.state_history] == ["PENDING"]

    fetched = runs.run_service_get_run(created.run_id)
    assert fetched.run_id == created.run_id
    assert fetched.pipeline_spec == TRAINING

    done = wait_run(runs, created.run_id)
    assert done.state == "SUCCEEDED"
    assert done.finished_at > done.created_at
    assert [h.state for h in done.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert done.error is None


def test_resubmitting_a_fetched_run_model_creates_a_new_run(runs, finished_run):
    # The official client writes datetimes with a "+00:00" offset, not "Z", and
    # sends every output field of the model back; the server takes the body as
    # a Run, resets state and history, and keeps scheduled_at/finished_at as
    # sent (SEMANTICS.md §3.1 step 6).
    clone = runs.run_service_get_run(finished_run.run_id)
    clone.run_id, clone.display_name = None, "resubmitted"

    created = runs.run_service_create_run(clone)

    assert created.run_id != finished_run.run_id
    assert created.display_name == "resubmitted"
    assert created.state == "PENDING"
    assert [h.state for h in created.state_history] == ["PENDING"]
    assert created.scheduled_at == finished_run.scheduled_at
    assert created.finished_at == finished_run.finished_at
    assert created.runtime_config.parameters == finished_run.runtime_config.parameters


@pytest.mark.parametrize("resend", [True, False], ids=["resend-query", "token-only"])
def test_list_runs_pages_to_the_end_with_sdk_filter_and_sort(runs, resend):
    tag = uuid.uuid4().hex[:8]
    wanted = {new_run(runs, f"page-{tag}-{i:02d}", spec=SWEEP).run_id for i in range(8)}
    for i in range(3):  # names the filter must drop
        new_run(runs, f"other-{tag}-{i}", spec=SWEEP)
    query = {
        "page_size": 3,
        "sort_by": "created_at desc",
        "filter": sdk_filter(("display_name", IS_SUBSTRING, f"page-{tag}")),
    }

    seen, totals = _all_pages(runs, resend=resend, **query)

    ids = [r.run_id for r in seen]
    assert len(ids) == len(set(ids)), "a run came twice across pages"
    assert set(ids) == wanted, "pages lost or added runs"
    assert totals == {8}, "total_size must be the same on every page"
    keys = [(r.created_at, r.run_id) for r in seen]
    assert keys == sorted(keys, reverse=True), "not created_at desc, run_id desc"


def test_list_runs_in_an_experiment_sorted_by_name(runs, experiment):
    names = [f"n-{c}" for c in "dbeac"]
    for name in names:
        new_run(runs, name, spec=SWEEP, experiment_id=experiment.experiment_id)

    seen, totals = _all_pages(
        runs, experiment_id=experiment.experiment_id, page_size=2, sort_by="name"
    )

    assert [r.display_name for r in seen] == sorted(names)
    assert totals == {5}
    assert {r.experiment_id for r in seen} == {experiment.experiment_id}


def _model_filter(official: kfp.ApiClient, name: str) -> str:
    """The filter built from the official models: operation name, snake_case."""
    flt = kfp.V2beta1Filter(
        predicates=[
            kfp.V2beta1Predicate(
                key="display_name", operation="EQUALS", string_value=name
            )
        ]
    )
    return json.dumps(official.sanitize_for_serialization(flt))


FILTER_STYLES = {
    "sdk": lambda official, name: sdk_filter(("display_name", EQUALS, name)),
    "models": _model_filter,
    # The UI encodes the JSON itself and its HTTP layer encodes it again.
    "ui": lambda official, name: quote(_model_filter(official, name), safe=""),
}


@pytest.mark.parametrize("style", sorted(FILTER_STYLES))
def test_list_runs_filter_equals_in_every_client_style(runs, official, style):
    name = f"eq {style} {uuid.uuid4().hex[:8]}"
    run = new_run(runs, name, spec=SWEEP)
    new_run(runs, name + "-suffix", spec=SWEEP)
    make = FILTER_STYLES[style]

    page = runs.run_service_list_runs(filter=make(official, name))

    assert [r.run_id for r in page.runs] == [run.run_id]
    assert page.total_size == 1
    nothing = runs.run_service_list_runs(filter=make(official, name + "-absent"))
    assert nothing.runs is None and nothing.total_size is None


def test_list_runs_with_an_unknown_filter_key_is_invalid_argument(runs):
    with pytest.raises(ApiException) as info:
        runs.run_service_list_runs(filter=sdk_filter(("foo", EQUALS, "x")))
    body = error_body(info.value)
    assert info.value.status == 400 and body["code"] == 3
    assert _detail(body) == 'no support for filtering on unrecognized field "foo"'


def test_archive_and_unarchive_show_in_storage_state(runs):
    run = new_run(runs, f"arch-{uuid.uuid4().hex[:8]}", spec=SWEEP)
    archived_filter = sdk_filter(
        ("storage_state", EQUALS, "ARCHIVED"), ("run_id", EQUALS, run.run_id)
    )

    assert runs.run_service_archive_run(run.run_id) == {}
    runs.run_service_archive_run(run.run_id)  # idempotent
    got = runs.run_service_get_run(run.run_id)
    assert got.storage_state == "ARCHIVED"
    assert got.state == runs.run_service_get_run(run.run_id).state
    listed = runs.run_service_list_runs(filter=archived_filter)
    assert [r.run_id for r in listed.runs] == [run.run_id]

    runs.run_service_unarchive_run(run.run_id)
    assert runs.run_service_get_run(run.run_id).storage_state == "AVAILABLE"
    assert runs.run_service_list_runs(filter=archived_filter).runs is None


def test_unarchive_into_an_archived_experiment_is_refused(
    runs, experiments, experiment
):
    exp_id = experiment.experiment_id
    run = new_run(runs, "in-archived-exp", spec=SWEEP, experiment_id=exp_id)
    experiments.experiment_service_archive_experiment(exp_id)
    assert runs.run_service_get_run(run.run_id).storage_state == "ARCHIVED"
    got = experiments.experiment_service_get_experiment(exp_id)
    assert got.storage_state == "ARCHIVED"

    with pytest.raises(ApiException) as info:
        runs.run_service_unarchive_run(run.run_id)
    body = error_body(info.value)
    assert info.value.status == 400 and body["code"] == 9
    assert "must be un-archived first" in _detail(body)

    experiments.experiment_service_unarchive_experiment(exp_id)
    runs.run_service_unarchive_run(run.run_id)
    assert runs.run_service_get_run(run.run_id).storage_state == "AVAILABLE"


def test_terminate_goes_canceling_then_failed(slow_runs):
    runs = slow_runs
    run = new_run(runs, "to-terminate")
    wait_run(runs, run.run_id, until={"RUNNING"})

    runs.run_service_terminate_run(run.run_id)

    now = runs.run_service_get_run(run.run_id)
    assert now.state == "CANCELING"
    assert "CANCELING" not in [h.state for h in now.state_history]
    done = wait_run(
        runs, run.run_id, until={"FAILED", "CANCELED", "SUCCEEDED"}, timeout=30
    )
    assert done.state == "FAILED"  # what the Argo path reports (SEMANTICS.md §3.6)
    assert done.finished_at > EPOCH
    states = [h.state for h in done.state_history]
    assert states[:2] == ["PENDING", "RUNNING"] and states[-1] == "FAILED"

    with pytest.raises(ApiException) as info:
        runs.run_service_terminate_run(run.run_id)
    body = error_body(info.value)
    assert info.value.status == 400 and body["code"] == 3
    assert _detail(body) == f"Failed to terminate a run {run.run_id}. Row not found"


def test_retry_of_a_failed_run_reruns_it_to_success(runs):
    run = new_run(runs, "fails-once", params={"fail_task": "train"})
    failed = wait_run(runs, run.run_id)
    assert failed.state == "FAILED"
    before = [h.state for h in failed.state_history]
    assert before[-1] == "FAILED"

    runs.run_service_retry_run(run.run_id)

    again = runs.run_service_get_run(run.run_id)
    assert again.run_id == run.run_id
    assert again.state == "RUNNING"
    assert again.finished_at == EPOCH
    assert [h.state for h in again.state_history] == [*before, "RUNNING"]
    done = wait_run(runs, run.run_id)
    assert done.state == "SUCCEEDED"

    with pytest.raises(ApiException) as info:
        runs.run_service_retry_run(run.run_id)
    assert info.value.status == 409 and error_body(info.value)["code"] == 10


def test_retry_of_an_active_run_is_aborted(runs):
    run = new_run(runs, "still-running")
    with pytest.raises(ApiException) as info:
        runs.run_service_retry_run(run.run_id)
    assert info.value.status == 409 and error_body(info.value)["code"] == 10


def test_delete_then_get_is_not_found(runs):
    run = new_run(runs, "to-delete")

    runs.run_service_delete_run(run.run_id)

    with pytest.raises(ApiException) as info:
        runs.run_service_get_run(run.run_id)
    body = error_body(info.value)
    assert info.value.status == 404 and body["code"] == 5
    assert _detail(body) == f"Run {run.run_id} not found"
    assert info.value.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ApiException) as again:
        runs.run_service_delete_run(run.run_id)
    assert again.value.status == 404


@pytest.mark.parametrize(
    "method",
    [
        "run_service_archive_run",
        "run_service_unarchive_run",
        "run_service_terminate_run",
        "run_service_retry_run",
        "run_service_delete_run",
        "run_service_get_run",
    ],
)
def test_every_run_action_on_a_missing_run_is_not_found(runs, method):
    missing = str(uuid.uuid4())
    with pytest.raises(ApiException) as info:
        getattr(runs, method)(missing)
    body = error_body(info.value)
    assert info.value.status == 404 and body["code"] == 5
    assert _detail(body) == f"Run {missing} not found"


def test_create_run_in_a_missing_experiment_is_not_found(runs):
    with pytest.raises(ApiException) as info:
        new_run(runs, "orphan", experiment_id="nope")
    body = error_body(info.value)
    assert info.value.status == 404 and _detail(body) == "Experiment nope not found"


def test_experiments_create_get_list(experiments):
    name = f"peer-exp-{uuid.uuid4().hex[:8]}"
    created = experiments.experiment_service_create_experiment(
        kfp.V2beta1Experiment(display_name=name, description="made by the peer test")
    )
    assert isinstance(created, kfp.V2beta1Experiment)
    assert created.display_name == name and created.storage_state == "AVAILABLE"
    assert created.last_run_created_at == EPOCH  # no run yet

    got = experiments.experiment_service_get_experiment(created.experiment_id)
    assert (got.display_name, got.description) == (name, "made by the peer test")

    # How the KFP SDK looks an experiment up by name.
    found = experiments.experiment_service_list_experiments(
        filter=sdk_filter(("display_name", EQUALS, name)), page_size=10
    )
    assert [e.experiment_id for e in found.experiments] == [created.experiment_id]

    with pytest.raises(ApiException) as dup:
        experiments.experiment_service_create_experiment(
            kfp.V2beta1Experiment(display_name=name)
        )
    assert dup.value.status == 409 and error_body(dup.value)["code"] == 6
    with pytest.raises(ApiException) as missing:
        experiments.experiment_service_get_experiment("nope")
    assert missing.value.status == 404
    assert _detail(error_body(missing.value)) == "Experiment nope not found"


def test_list_experiments_pages_to_the_end(experiments):
    tag = uuid.uuid4().hex[:8]
    made = {
        experiments.experiment_service_create_experiment(
            kfp.V2beta1Experiment(display_name=f"pg-{tag}-{i}")
        ).experiment_id
        for i in range(5)
    }
    flt = sdk_filter(("display_name", IS_SUBSTRING, f"pg-{tag}"))
    seen, token = [], None
    for _ in range(10):
        page = experiments.experiment_service_list_experiments(
            filter=flt, page_size=2, page_token=token
        )
        seen.extend(e.experiment_id for e in page.experiments or [])
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(made)


def test_sdk_style_filter_values_are_percent_decoded_twice(runs):
    """The server unescapes ``filter`` once more (SEMANTICS.md §7.1), so plain
    JSON from the official client loses a ``+`` and cannot hold a bare ``%``."""
    tag = uuid.uuid4().hex[:8]
    spaced = new_run(runs, f"{tag} a b", spec=SWEEP)
    new_run(runs, f"{tag} a+b", spec=SWEEP)
    underscore = new_run(runs, f"{tag}-x_y", spec=SWEEP)
    wildcard = new_run(runs, f"{tag}-xzy", spec=SWEEP)

    plus = runs.run_service_list_runs(
        filter=sdk_filter(("display_name", EQUALS, f"{tag} a+b"))
    )
    assert [r.run_id for r in plus.runs] == [spaced.run_id]
    # '_' is a LIKE wildcard, unescaped as on the real server.
    like = runs.run_service_list_runs(
        filter=sdk_filter(("display_name", IS_SUBSTRING, f"{tag}-x_y")),
        sort_by="name",
    )
    assert {r.run_id for r in like.runs} == {underscore.run_id, wildcard.run_id}
    with pytest.raises(ApiException) as info:
        runs.run_service_list_runs(filter=sdk_filter(("display_name", EQUALS, "50%")))
    body = error_body(info.value)
    assert info.value.status == 400 and body["code"] == 3
    assert _detail(body).startswith("failed to parse valid filter from")


def test_a_bearer_token_is_accepted_in_single_user_mode(peer_server, finished_run):
    """The SDK sends ``authorization: Bearer <token>``; single-user mode skips
    every authorization check (SEMANTICS.md §3), so the token changes nothing."""
    config = kfp.Configuration(
        host=peer_server.url,
        api_key={"authorization": "peer-token"},
        api_key_prefix={"authorization": "Bearer"},
    )
    with kfp.ApiClient(config) as client:
        got = kfp.RunServiceApi(client).run_service_get_run(finished_run.run_id)
    assert got.run_id == finished_run.run_id
