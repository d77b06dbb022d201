"""Periodic work while serving: what a worker process would otherwise run on a timer.

Domains register a task in their ``AppConfig.ready``::

    periodic.register("payments.process_clearing", 5.0, do_process_clearing)

``rongshu serve --periodic`` (on in ``rongshu demo``) runs the registered tasks in ONE
process of the server: every gunicorn worker tries :func:`start`, and only the one that
holds the lock file (``var/periodic.lock``, released when its process ends) runs them, in a
daemon thread. A task's failure is logged and the task runs again at its next turn. In
production a separate worker (``rongshu payments process-clearing --loop 5`` …) does the
same; the tasks are idempotent, so both may run.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import close_old_connections

logger = logging.getLogger(__name__)


@dataclass
class Task:
    name: str
    every_s: float
    run: Callable[[], Any]
    due: float = 0.0


_tasks: dict[str, Task] = {}
_runner: _Runner | None = None


def register(name: str, every_s: float, run: Callable[[], Any]) -> None:
    """Run ``run()`` every ``every_s`` seconds while serving with ``--periodic``."""
    _tasks[name] = Task(name, every_s, run)


def tasks() -> list[str]:
    return sorted(_tasks)


def run_due(now: float | None = None) -> list[str]:
    """Run the tasks whose turn has come (each on a fresh connection state); their names."""
    at = time.monotonic() if now is None else now
    ran = []
    for task in list(_tasks.values()):
        if task.due > at:
            continue
        task.due = at + task.every_s
        close_old_connections()
        try:
            task.run()
        except Exception:
            logger.exception(
                "periodic task %s failed; it runs again in %.0f s", task.name, task.every_s
            )
        finally:
            close_old_connections()
        ran.append(task.name)
    return ran


class _Runner:
    def __init__(self, lock: IO[str], tick_s: float) -> None:
        self.lock = lock  # held for the life of the process
        self.tick_s = tick_s
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="rongshu-periodic", daemon=True)

    def loop(self) -> None:
        while not self.stopping.is_set():
            run_due()
            self.stopping.wait(self.tick_s)


def start(lock_path: Path, tick_s: float = 1.0) -> bool:
    """Run the registered tasks in this process unless another process holds ``lock_path``
    (then False). Idempotent in a process."""
    global _runner
    if _runner is not None:
        return True
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _runner = _Runner(handle, tick_s)
    _runner.thread.start()
    logger.info("periodic tasks running here: %s", ", ".join(tasks()) or "none")
    return True


def stop(timeout: float = 10.0) -> None:
    """Stop this process's runner and release its lock."""
    global _runner
    runner, _runner = _runner, None
    if runner is None:
        return
    runner.stopping.set()
    runner.thread.join(timeout)
    runner.lock.close()
