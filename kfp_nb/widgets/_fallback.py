"""Static fallbacks shown where no kernel is live (nbviewer, GitHub, reopened files).

Plain HTML with every value escaped, and a one-line text summary. They hold
only run data: never the client, a host with credentials, a token or a cookie.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

import pandas as pd

__all__ = ["MAX_ROWS", "run_html", "summary_text", "table_html"]

#: Rows written into a saved notebook; more would bloat the file.
MAX_ROWS = 200
_STYLE = "border-collapse:collapse;font-size:12px"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"


def summary_text(frame: pd.DataFrame, *, total: int | None = None) -> str:
    """``"12 runs: 9 SUCCEEDED, 2 FAILED, 1 RUNNING"``."""
    count = len(frame)
    states = Counter(str(s) for s in frame["state"]) if "state" in frame else Counter()
    parts = ", ".join(f"{n} {state}" for state, n in states.most_common())
    of = f" of {total}" if total is not None and total > count else ""
    head = f"{count}{of} run{'s' if count != 1 else ''}"
    return f"{head}: {parts}" if parts else head


def table_html(
    frame: pd.DataFrame, *, total: int | None = None, error: str = ""
) -> str:
    """The runs as a plain HTML table (name, state, experiment, created, duration)."""
    rows = frame.head(MAX_ROWS)
    body = "".join(_row(rows, i) for i in range(len(rows)))
    head = "".join(
        f'<th style="{_CELL}">{label}</th>'
        for label in ("Name", "State", "Experiment", "Created", "Duration")
    )
    notes = [escape(summary_text(frame, total=total))]
    if len(frame) > MAX_ROWS:
        notes.append(f"showing the first {MAX_ROWS} of {len(frame)} loaded runs")
    if error:
        notes.append("error: " + escape(error))
    notes.append("static copy: run the cell in a live kernel for the interactive panel")
    return (
        '<div class="kfp-nb-fallback">'
        f"<p>kfp_nb run table — {'; '.join(notes)}</p>"
        f'<table style="{_STYLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _row(frame: pd.DataFrame, i: int) -> str:
    row = frame.iloc[i]
    cells = (
        _value(row, "display_name"),
        _value(row, "state"),
        _value(row, "experiment_name"),
        _time(row.get("created_at")),
        _duration(row.get("duration")),
    )
    return (
        "<tr>"
        + "".join(f'<td style="{_CELL}">{escape(c)}</td>' for c in cells)
        + "</tr>"
    )


def _value(row: pd.Series, name: str) -> str:
    value = row.get(name)
    return "" if value is None or _missing(value) else str(value)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _time(value: Any) -> str:
    if value is None or _missing(value):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _duration(value: Any) -> str:
    if value is None or _missing(value):
        return ""
    seconds = int(pd.Timedelta(value).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def run_html(
    run: dict[str, Any] | None, tasks: list[dict[str, Any]], *, error: str = ""
) -> str:
    """One run's fields and its tasks as plain, escaped HTML."""
    if not run:
        note = f"error: {escape(error)}" if error else "no data loaded"
        return f'<div class="kfp-nb-fallback"><p>kfp_nb run view — {note}</p></div>'
    fields = [
        ("Name", run.get("display_name")),
        ("Run id", run.get("run_id")),
        ("State", run.get("state")),
        ("Storage", run.get("storage_state")),
        ("Created", run.get("created_at")),
        ("Finished", run.get("finished_at")),
        ("Description", run.get("description")),
        ("Error", _run_error(run)),
    ]
    params = ((run.get("runtime_config") or {}).get("parameters")) or {}
    fields += [(f"param {name}", value) for name, value in sorted(params.items())]
    field_rows = "".join(
        f'<tr><th style="{_CELL}">{escape(k)}</th><td style="{_CELL}">'
        f"{escape(str(v))}</td></tr>"
        for k, v in fields
        if v not in (None, "")
    )
    task_rows = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_CELL}">{escape(str(v or ""))}</td>'
            for v in (
                t.get("display_name") or t.get("name"),
                *(t.get(k) for k in ("state", "create_time", "end_time")),
                _message(t.get("error")),
            )
        )
        + "</tr>"
        for t in tasks[:MAX_ROWS]
        if isinstance(t, dict)
    )
    task_head = "".join(
        f'<th style="{_CELL}">{h}</th>'
        for h in ("Task", "State", "Created", "Ended", "Error")
    )
    more = f" (first {MAX_ROWS} of {len(tasks)})" if len(tasks) > MAX_ROWS else ""
    err = f"<p>error: {escape(error)}</p>" if error else ""
    return (
        '<div class="kfp-nb-fallback"><p>kfp_nb run view — static copy</p>'
        f'{err}<table style="{_STYLE}">{field_rows}</table>'
        f"<p>{len(tasks)} task(s){more}</p>"
        f'<table style="{_STYLE}"><thead><tr>{task_head}</tr></thead>'
        f"<tbody>{task_rows}</tbody></table></div>"
    )


def _message(error: Any) -> str:
    return str(error.get("message") or "") if isinstance(error, dict) else ""


def _run_error(run: dict[str, Any]) -> str:
    """The run's error, else the latest one in its state history (as the panel)."""
    message = _message(run.get("error"))
    history = run.get("state_history")
    for entry in reversed(history if isinstance(history, list) else []):
        if message:
            break
        message = _message(entry.get("error")) if isinstance(entry, dict) else ""
    return message
