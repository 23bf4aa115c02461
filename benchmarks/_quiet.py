"""Who else is using the CPU: timings on a shared machine are only meaningful when nobody else is.

`foreign_load` samples every process's CPU time over a short window and returns the busy ones that are
neither this process nor its descendants; `wait_quiet` polls it for the non-niced ones. Niced processes are
counted too (``"nice"`` says which): with the kernel's autogroup scheduling (``sched_autogroup_enabled=1``)
nice only ranks processes within one session, so a niced job started from another session still takes
its session's fair share of the CPU.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

CLK = os.sysconf("SC_CLK_TCK")


def _stat() -> dict[int, tuple[int, int, int, str]]:
    """pid -> (ppid, nice, utime + stime ticks, command name) of every process readable in /proc."""
    out = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            text = (proc / "stat").read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        out[int(proc.name)] = (int(rest[1]), int(rest[16]), int(rest[11]) + int(rest[12]), name)
    return out


def _descendants(stat: dict, root: int) -> set[int]:
    tree, grew = {root}, True
    while grew:
        new = {pid for pid, (ppid, *_) in stat.items() if ppid in tree} - tree
        tree |= new
        grew = bool(new)
    return tree


def foreign_load(window: float = 2.0, threshold: float = 0.2) -> list[dict]:
    """Processes outside this tree, not niced, that used more than `threshold` of a core over `window` seconds."""
    return [p for p in _busy(window, threshold) if p["nice"] < 10]


def _busy(window: float, threshold: float) -> list[dict]:
    before = _stat()
    time.sleep(window)
    after = _stat()
    ours = _descendants(after, os.getpid())
    busy = []
    for pid, (_, nice, ticks, name) in after.items():
        if pid in ours or pid not in before:
            continue
        share = (ticks - before[pid][2]) / CLK / window
        if share > threshold:
            busy.append({"pid": pid, "name": name, "nice": nice, "cores": round(share, 2)})
    return busy


def wait_quiet(max_seconds: float) -> list[dict]:
    """Wait (up to `max_seconds`) until `foreign_load` is empty; return the last sample (empty when quiet)."""
    deadline = time.monotonic() + max_seconds
    while True:
        busy = foreign_load()
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(5.0)


class ForeignMeter:
    """Average cores that other processes (niced ones too) used while the ``with`` body ran (`cores`, `who`).

    Processes that both started and ended inside the body are missed; one that started inside counts fully.
    """

    def __enter__(self):
        self._before, self._t0 = _stat(), time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        after, wall = _stat(), time.monotonic() - self._t0
        ours = _descendants(after, os.getpid())
        self.who = []
        for pid, (_, nice, ticks, name) in after.items():
            if pid in ours:
                continue
            share = (ticks - self._before.get(pid, (0, 0, 0))[2]) / CLK / wall
            if share > 0.05:
                self.who.append({"pid": pid, "name": name, "nice": nice, "cores": round(share, 2)})
        self.cores = round(sum(w["cores"] for w in self.who), 2)
