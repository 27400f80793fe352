"""What a running server costs in memory, per worker.

A server is started in its own session, so its process group holds the master and every
worker. Its cost is the proportional set size (PSS) of all of them, divided by the number of
workers: a page that several processes share counts a share in each. The resident size
(RSS) would count a shared page once per process, which charges a server whose workers are
forks of a master that imported the app (Gunicorn's preload_app) for pages it holds once.
"""

from __future__ import annotations

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


def memory_per_worker_mib(group: int) -> float:
    """The whole server's memory (master, workers, helpers) divided by its workers."""
    members = group_members(group)
    workers = [pid for pid in members if pid != group and not _helper(pid)]
    return sum(pss_mib(pid) for pid in members) / max(len(workers), 1)
