"""RunTable.select names what it takes when given something else."""

from __future__ import annotations

import pytest

from kfp_nb.widgets import RunTable

from ..client._mock import FakeServer, reply, run_body
from ._helpers import wait_for


@pytest.mark.parametrize("runs", [5, None, 2.5, object()])
def test_select_of_a_non_id_is_a_type_error(outbox, runs):
    body = {"runs": [run_body("r1")], "total_size": 1}
    client = FakeServer().on("GET", ".*/runs", lambda _: reply(200, body)).client()
    table = RunTable(client, polling=False)
    wait_for(lambda: not table.loading, what="the listing")
    with pytest.raises(TypeError, match="RunTable.select: runs must be a run id"):
        table.select(runs)
    table.select("r1")
    assert table.selected == ["r1"]
