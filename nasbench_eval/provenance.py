"""Where a number came from: command, date, device, versions, git commit. Every result file carries it."""
from __future__ import annotations

import datetime
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import torch

from . import __version__


def git_commit() -> str | None:
    """HEAD of the checkout holding this package, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def device_name(device: str | torch.device | None) -> str:
    """Human-readable name of `device` (GPU model, or CPU with its thread count)."""
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({platform.machine()}, {torch.get_num_threads()} torch threads)"


def provenance(device: str | torch.device | None = None) -> dict:
    """The record every benchmark / reproduction JSON stores beside its numbers."""
    return {
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "nasbench_eval": __version__,
        "git_commit": git_commit(),
    }
