"""What the benchmarks ran on, for the first line of their report."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import lxml


def describe() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, lxml {lxml.__version__}")
