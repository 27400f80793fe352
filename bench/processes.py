"""What a running server costs in memory: the resident size of each of its processes.

A server is started in its own session, so its process group holds the master and every
worker; /proc says how much memory each one holds.
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


def rss_mib(pid: int) -> float:
    """Resident memory of one process, in MiB (0 if it is gone)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
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


def worker_rss_mib(group: int) -> float:
    """The mean resident memory of a server's workers (the group but its leader)."""
    workers = [pid for pid in group_members(group) if pid != group and not _helper(pid)]
    sizes = [rss_mib(pid) for pid in workers] or [rss_mib(group)]
    return sum(sizes) / len(sizes)
