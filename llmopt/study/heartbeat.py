"""A background thread that keeps this worker's RUNNING trials alive in storage.

Another worker re-queues a trial whose heartbeat is older than the study's `stale_after`,
so a killed process loses only the trial in flight, and that trial runs again.
"""

from __future__ import annotations

import logging
import threading
import time

from llmopt.storage import Storage

log = logging.getLogger("llmopt.study")


class Heartbeat:
    """Beats every `interval` seconds for the trial ids currently registered."""

    def __init__(self, storage: Storage, interval: float) -> None:
        self._storage = storage
        self._interval = interval
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, trial_id: int) -> None:
        with self._lock:
            self._ids.add(trial_id)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="llmopt-heartbeat", daemon=True)
                self._thread.start()

    def remove(self, trial_id: int) -> None:
        with self._lock:
            self._ids.discard(trial_id)

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():  # a finalizer may run on it
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                ids = list(self._ids)
            if not ids:
                continue
            try:
                self._storage.heartbeat(ids, time.time())
            except Exception as exc:  # a missed beat is not fatal; the next one may succeed
                log.warning("heartbeat failed: %s", exc)
