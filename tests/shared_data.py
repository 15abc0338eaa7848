"""Where the real test data lives (``../shared/data`` next to the checkout), or a clear skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """``YUQING_SHARED_DATA`` if set, else ``../shared/data`` beside the repository; None if absent."""
    override = os.environ.get("YUQING_SHARED_DATA")
    candidate = Path(override) if override else REPO_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def require_shared(*parts: str) -> Path:
    """The path under shared/data, or skip the test naming what is missing."""
    base = shared_data_dir()
    if base is None:
        pytest.skip("shared/data not found beside the checkout (set YUQING_SHARED_DATA)")
    path = base.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} is absent")
    return path
