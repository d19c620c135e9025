"""Which process holds an update in the inbox, or a message the outbox is sending, and whether it still runs.

Each inbox names itself in the rows it stores or takes (see bot/delivery/inbox.py), and each outbox sender in the rows
it claims. A process starting, or one running on, takes what another left unfinished only when that one is known to
have ended: on the same machine (the same boot and process namespace), by its process id and start time, and in the
same process by whether its inbox (or sender) still runs; elsewhere, when its lease has run out, for it renews the
lease while it runs. Replayed from a live process, an update was handled twice (a staff member told twice that their
reply is on its way); sent again, a reply whose send the database was away to write down reached the patient twice."""

from __future__ import annotations

import enum
import functools
import os
import uuid
from pathlib import Path

_LIVE: set[str] = set()  # the inboxes running in this process


class Seen(enum.Enum):
    RUNNING = "running"
    ENDED = "ended"
    UNKNOWN = "unknown"  # another machine's: its lease tells


@functools.cache  # a process keeps its boot and namespace
def _machine() -> str | None:
    """This boot of this machine and this process namespace: where process ids mean the same; None off Linux."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"


def _started(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), None when there is none or it has ended (a zombie):
    a process id given again to another process is not taken for the one that had it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def of(pid: int) -> str:
    """A name for an inbox of process `pid`: where it runs, the process, and the inbox (one of several a test runs in
    one process, one after another)."""
    machine = _machine()
    started = _started(pid) if machine is not None else None
    return f"{machine or 'elsewhere'}|{pid}|{started or '-'}|{uuid.uuid4().hex[:12]}"


def new_owner() -> str:
    """A name for an inbox starting in this process, registered as running until `ended`."""
    owner = of(os.getpid())
    _LIVE.add(owner)
    return owner


def ended(owner: str) -> None:
    _LIVE.discard(owner)


def seen(owner: str) -> Seen:
    """Whether the process `owner` names still runs, as far as this one can tell."""
    if owner in _LIVE:
        return Seen.RUNNING
    parts = owner.split("|")
    machine = _machine()
    if len(parts) != 4 or machine is None or parts[0] != machine or not parts[1].isdigit():
        return Seen.UNKNOWN
    pid, started = int(parts[1]), parts[2]
    if pid == os.getpid():
        return Seen.ENDED  # an inbox of this process that stopped (a test's restart; one serve per process else)
    return Seen.RUNNING if _started(pid) == started else Seen.ENDED
