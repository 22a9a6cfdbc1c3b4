"""Plots of runs and tasks, with matplotlib (imported on first use).

Like pandas' ``DataFrame.plot``, each function draws on ``ax`` when given
(else on a new figure) and returns the ``Axes``, so titles, limits and saving
stay the caller's. Colours come from the run/task state.

- :func:`timeline`: a Gantt chart of a run's tasks; the tasks of
  :func:`kfp_nb.critical_path` get a thick outline (their bars have
  ``gid="critical"``).
- :func:`runs`: runs over time, creation time against duration, one colour per
  state; runs without a duration (not finished) are left out and counted in
  the title.
"""

from __future__ import annotations

from typing import Any

from . import _analysis

__all__ = ["STATE_COLORS", "runs", "timeline"]

#: Colour of each state (others: grey).
STATE_COLORS: dict[str, str] = {
    "SUCCEEDED": "#2e7d32",
    "CACHED": "#66bb6a",
    "FAILED": "#c62828",
    "RUNNING": "#1565c0",
    "PENDING": "#9e9e9e",
    "PAUSED": "#f9a825",
    "CANCELING": "#ef6c00",
    "CANCELED": "#6d4c41",
    "SKIPPED": "#bdbdbd",
}
_OTHER = "#757575"
_CRITICAL = "#000000"


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(9, 4))
    return ax


def timeline(client: Any, run_id: str, *, ax: Any = None) -> Any:
    """A Gantt chart of the run's leaf tasks, critical path outlined."""
    if not isinstance(run_id, str) or not run_id:
        raise TypeError(
            f"plot.timeline: run_id must be a run id string, not {run_id!r}"
        )
    import matplotlib.dates as mdates
    import pandas as pd

    from . import _accessor

    tasks = _accessor.require_sync(client, "plot.timeline").tasks(run_id)
    leaves = _analysis._leaves(tasks)
    leaves = leaves[leaves["start_time"].notna()]
    leaves = leaves.assign(
        task=[_analysis._task_label(t) for t in leaves.to_dict("records")]
    ).sort_values(["start_time", "task"], ascending=[False, False])
    critical = set(_analysis._chain(tasks)["task_id"])
    ax = _axes(ax)
    now = pd.Timestamp.now(tz="UTC")
    for row, task in enumerate(leaves.to_dict("records")):
        start = task["start_time"]
        end = task["end_time"] if pd.notna(task["end_time"]) else now
        on_path = task["task_id"] in critical
        bars = ax.barh(
            row,
            mdates.date2num(end) - mdates.date2num(start),
            left=mdates.date2num(start),
            color=STATE_COLORS.get(str(task["state"]), _OTHER),
            edgecolor=_CRITICAL if on_path else "none",
            linewidth=2.5 if on_path else 0,
            height=0.6,
            label=str(task["state"]),
        )
        for patch in bars.patches:
            patch.set_gid("critical" if on_path else "task")
    ax.set_yticks(range(len(leaves)), list(leaves["task"]))
    ax.xaxis_date()
    ax.set_xlabel("time (UTC)")
    ax.set_title(f"Tasks of run {run_id} (outlined: critical path)")
    _state_legend(ax)
    return ax


def runs(frame: Any, *, ax: Any = None) -> Any:
    """Runs over time: created_at against duration (minutes), coloured by state.

    A run without a state is drawn as ``"unknown"``.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            "plot.runs: frame must be a pandas DataFrame (the one client.runs() "
            f"returns), not {type(frame).__name__}"
        )
    for column in ("created_at", "duration", "state"):
        if column not in frame.columns:
            raise ValueError(
                f"plot.runs: the frame has no {column!r} column; pass the frame "
                "client.runs() returned"
            )
    ax = _axes(ax)
    # Coerced: a concatenated or hand-made frame may hold these as objects.
    duration = pd.to_timedelta(frame["duration"], errors="coerce")
    created = pd.to_datetime(frame["created_at"], utc=True, errors="coerce")
    keep = (duration.notna() & created.notna()).to_numpy()
    done = frame[keep]
    minutes = duration[keep].dt.total_seconds() / 60
    created = created[keep]
    states = done["state"].astype("string").fillna("unknown")
    for state in sorted(set(states)):
        mask = (states == state).to_numpy()
        ax.scatter(
            created[mask].dt.tz_convert(None).to_numpy(),
            minutes[mask].to_numpy(),
            color=STATE_COLORS.get(state, _OTHER),
            label=state,
            s=18,
        )
    ax.set_xlabel("created (UTC)")
    ax.set_ylabel("duration (minutes)")
    left_out = len(frame) - len(done)
    extra = f"; {left_out} without a duration left out" if left_out else ""
    ax.set_title(f"{len(done)} runs{extra}")
    if len(done):
        ax.legend(title="state", fontsize="small")
    return ax


def _state_legend(ax: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    if unique:
        ax.legend(unique.values(), unique.keys(), title="state", fontsize="small")
