"""Where the project's shared material lives (../shared beside the checkout; KIBAN_SHARED_DIR overrides)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def shared_dir() -> Path | None:
    """The shared/ folder (benchmark data, eval cases), or None when it is absent (tests then skip)."""
    candidate = Path(os.environ.get("KIBAN_SHARED_DIR", PROJECT_DIR.parent / "shared"))
    return candidate if candidate.is_dir() else None


def shared_path(*parts: str) -> Path | None:
    base = shared_dir()
    if base is None:
        return None
    path = base.joinpath(*parts)
    return path if path.exists() else None
