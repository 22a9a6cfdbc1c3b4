"""``client.runs(metrics=True)``: metric columns, the naming rule, no extra calls."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

from kfp_nb import AsyncClient, Client
from kfp_nb._metrics_frame import metrics_columns


def test_metric_columns_hold_each_runs_metric_values(lab):
    client, ids = lab
    frame = client.runs(metrics=True).set_index("run_id")
    # train and evaluate both log accuracy, so both are qualified by task;
    # only check-drift logs psi, so it is plain.
    assert "metric.accuracy" not in frame.columns
    for column in ("metric.train.accuracy", "metric.evaluate.auc", "metric.psi"):
        assert frame[column].dtype == "Float64"
    for name in ("ok-1", "ok-2"):
        arts = client.artifacts(ids[name])
        for row in arts[arts["type"] == "Metric"].itertuples():
            column = f"metric.{row.task_path}.{row.name}"
            assert frame.at[ids[name], column] == pytest.approx(row.number_value)
        assert pd.isna(frame.at[ids[name], "metric.psi"])
    # A run that failed at train logged no metric at all.
    assert frame.loc[ids["bad-train-1"], "metric.train.accuracy"] is pd.NA
    checks = client.artifacts(ids["ok-check"])
    psi = checks.loc[checks["name"] == "psi", "number_value"].item()
    assert frame.at[ids["ok-check"], "metric.psi"] == pytest.approx(psi)


def test_naming_rule_qualifies_only_clashing_names():
    columns = metrics_columns(
        [{("train", "acc"): 0.5, ("train", "loss"): 1.0}, {("eval", "acc"): 0.7}]
    )
    assert columns == {
        "metric.eval.acc": [None, 0.7],
        "metric.loss": [1.0, None],
        "metric.train.acc": [0.5, None],
    }


class Counting(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return super().handle_request(request)


def test_metrics_false_makes_no_extra_call_and_true_one_listing_per_run(lab):
    client, ids = lab
    counting = Counting()
    with Client(client.host, transport=counting, backoff=0) as spy:
        plain = spy.runs()
        assert not any(p.endswith("/tasks") for p in counting.paths)
        assert not any(c.startswith("metric.") for c in plain.columns)
        plain_calls = len(counting.paths)
        counting.paths.clear()
        spy.runs(metrics=True, progress=False)
    task_calls = [p for p in counting.paths if "/tasks" in p]
    assert len(task_calls) == len(ids)
    assert len(counting.paths) - len(task_calls) <= plain_calls


def test_unreadable_runs_keep_na_and_are_reported(lab):
    client, ids = lab

    class Broken(httpx.HTTPTransport):
        def handle_request(self, request):
            if "/tasks" in request.url.path and ids["ok-1"] in str(request.url):
                return httpx.Response(
                    500, json={"code": 13, "message": "database is locked"}
                )
            return super().handle_request(request)

    with (
        Client(client.host, transport=Broken(), backoff=0, retries=0) as broken,
        pytest.warns(UserWarning, match="metrics of 1 run"),
    ):
        frame = broken.runs(metrics=True, progress=False)
    frame = frame.set_index("run_id")
    assert list(frame.attrs["metric_errors"]) == [ids["ok-1"]]
    assert "database is locked" in frame.attrs["metric_errors"][ids["ok-1"]]
    assert frame.loc[ids["ok-1"], "metric.train.accuracy"] is pd.NA
    assert pd.notna(frame.loc[ids["ok-2"], "metric.train.accuracy"])


async def _async_runs(host: str) -> pd.DataFrame:
    async with AsyncClient(host, backoff=0) as client:
        return await client.runs(metrics=True, progress=False)


def test_async_client_gives_the_same_columns(lab):
    import asyncio

    client, _ = lab
    sync = client.runs(metrics=True, progress=False).set_index("run_id")
    frame = asyncio.run(_async_runs(client.host)).set_index("run_id")
    metric_columns = [c for c in sync.columns if c.startswith("metric.")]
    assert [c for c in frame.columns if c.startswith("metric.")] == metric_columns
    pd.testing.assert_frame_equal(
        frame.loc[sync.index, metric_columns], sync[metric_columns]
    )


def test_frames_of_an_async_client_need_a_sync_one_to_act(lab):
    import asyncio

    from kfp_nb._analysis import failures

    client, _ = lab

    async def listing() -> pd.DataFrame:
        async with AsyncClient(client.host, backoff=0) as aclient:
            frame = await aclient.runs()
            with pytest.raises(TypeError, match="not an AsyncClient"):
                frame.kfp.archive()
            with pytest.raises(TypeError, match="not an AsyncClient"):
                failures(frame)
            return frame

    frame = asyncio.run(listing())
    assert frame.kfp.retry(client=client)["eligible"].sum() == 3
