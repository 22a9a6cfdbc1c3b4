"""Recording the SQL the store runs, for query-plan tests and the server benchmark."""

from __future__ import annotations

import sqlite3
from typing import Any


class QueryRecorder:
    """A connection stand-in that records every (sql, args) ``Store.list_rows`` runs."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.calls: list[tuple[str, list[Any]]] = []

    def execute(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        self.calls.append((sql, list(args)))
        return self.db.execute(sql, args)
