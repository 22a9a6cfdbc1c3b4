"""A daemon thread that calls ``tick`` every few seconds while ``wanted`` holds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["Poller"]

logger = logging.getLogger("kfp_nb.widgets")


class Poller:
    """Repeats ``tick()`` every ``interval()`` seconds on a daemon thread.

    The thread ends by itself once ``wanted()`` is false after a tick, and at
    once on :meth:`stop`. ``tick`` must not raise; if it does, the error is
    logged and polling goes on. ``wanted`` is re-checked under the same lock
    :meth:`ensure` takes, so a run made active while the thread is ending still
    gets a poller.
    """

    def __init__(
        self,
        tick: Callable[[], None],
        *,
        wanted: Callable[[], bool],
        interval: Callable[[], float],
        name: str,
    ) -> None:
        self._tick, self._wanted, self._interval = tick, wanted, interval
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def ensure(self) -> bool:
        """Start the thread if polling is wanted and none runs; True if one runs."""
        with self._lock:
            if self._thread is None and self._wanted():
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._loop, args=(self._stop,), name=self._name, daemon=True
                )
                self._thread.start()
            return self._thread is not None

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (not when called from the thread)."""
        with self._lock:
            thread, stop = self._thread, self._stop
            self._thread = self._stop = None
        if stop is not None:
            stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(max(0.05, self._safe_interval())):
            try:
                self._tick()
            except Exception:
                logger.exception("kfp_nb panel: a poll failed")
            with self._lock:
                if stop.is_set():
                    return
                if not self._wanted():
                    self._thread = self._stop = None
                    return

    def _safe_interval(self) -> float:
        try:
            return float(self._interval())
        except (TypeError, ValueError):
            return 5.0
