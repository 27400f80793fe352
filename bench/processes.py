"""What a running server costs in memory, per worker.

A server is started in its own session, so its process group holds the master and every
worker. Its cost is the proportional set size (PSS) of all of them, divided by the number of
workers: a page that several processes share counts a share in each. The resident size
(RSS) would count a shared page once per process, which charges a server whose workers are
forks of a master that imported the app (Gunicorn's preload_app) for pages it holds once.
"""

from __future__ import annotations

import time
from pathlib import Path

PROC = Path("/proc")


def group_members(group: int) -> list[int]:
    """The pids of the processes in process group `group`."""
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Field 5 of stat is the process group; the command name (field 2) may hold spaces.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            members.append(int(entry.name))
    return members


def pss_mib(pid: int) -> float:
    """Proportional memory of one process, in MiB (0 if it is gone)."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _helper(pid: int) -> bool:
    """multiprocessing's resource tracker, which serves no request."""
    try:
        return b"resource_tracker" in (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return True


def _workers(group: int, members: list[int]) -> list[int]:
    return [pid for pid in members if pid != group and not _helper(pid)]


def memory_per_worker_mib(group: int) -> float:
    """The whole server's memory (master, workers, helpers) divided by its workers."""
    members = group_members(group)
    return sum(pss_mib(pid) for pid in members) / max(len(_workers(group, members)), 1)


def wait_for_workers(group: int, count: int, timeout: float = 30.0, settle: float = 0.5) -> None:
    """Return once the server has `count` workers, and `settle` seconds more for the last
    one to finish starting.

    A server answers as soon as its first worker is up; Gunicorn forks the next one up to
    0.1 s later. Memory at rest taken at the first answer counted the master and one
    worker, and divided them by one: 86 MiB per worker where all up gave 52.
    """
    deadline = time.monotonic() + timeout
    while len(_workers(group, group_members(group))) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"server {group}: fewer than {count} workers after {timeout:.0f} s")
        time.sleep(0.05)
    time.sleep(settle)
