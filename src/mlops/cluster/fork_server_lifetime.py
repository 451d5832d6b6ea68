"""The processes executor's fork server and its workers end with the run that started them.

Left to multiprocessing, a run killed with SIGKILL leaves its fork server, its
workers and the resource tracker running: each worker holds the pipes the
others wait on (the server waits for its last client, the tracker for its last
writer, an idle worker for its next task), so none of them ever sees the end.

This module is the fork server's first preload
(:data:`mlops.cluster.process_pool.PRELOAD`): the only mlops code a fork server
runs before it serves. The run starts the server with its own pid in the
server's environment (:func:`mlops.runtime.parent_death.children_die_with_this_process`);
importing this module asks the kernel for SIGKILL when that process ends, and
keeps the server's pid for the workers it forks, which ask the same of the
server (:func:`worker_dies_with_server`, from the pool's initializer). A killed
run takes its server with it, the server its workers, and the tracker ends once
no process holds its pipe.

The kernel takes the thread that started a process for its parent: the server
is started by the thread that drives the run (its first submit, or the early
start), which lives as long as the run. Should that thread end first, the
server and its workers end with it, and the next pool starts a new server.
"""

from __future__ import annotations

import os
import signal

from mlops.runtime.parent_death import adopt, die_with_parent

#: The fork server's pid, in the server and in every worker it forks (a fork keeps
#: it); None in any process not started as a run's fork server.
SERVER_PID: int | None = os.getpid() if adopt() else None


def worker_dies_with_server() -> None:
    """In a worker the fork server forked: SIGKILL when the server ends."""
    if SERVER_PID is not None and os.getpid() != SERVER_PID:
        die_with_parent(SERVER_PID, signal.SIGKILL)


__all__ = ["SERVER_PID", "worker_dies_with_server"]
