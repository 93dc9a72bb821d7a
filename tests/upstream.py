"""Where the upstream payloads recorded by the orchestrator projects live, read in place.

They are never copied into this repository. Where the folder is absent (a user's machine) tests
that need it skip with a reason; with PODIUM_REQUIRE_UPSTREAM=1 (CI) its absence fails them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_DIR = Path(os.environ.get("PODIUM_UPSTREAM_DIR", ROOT.parent / "shared" / "fixtures" / "upstream"))
SPEC_DIR = Path(os.environ.get("PODIUM_SPEC_DIR", ROOT.parent / "shared" / "spec"))


def _require(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} not found at {path}"
    if os.environ.get("PODIUM_REQUIRE_UPSTREAM") == "1":
        pytest.fail(message + " (PODIUM_REQUIRE_UPSTREAM=1)")
    pytest.skip(message)


def upstream_path(relative: str) -> Path:
    """Path of one recorded upstream payload, e.g. upstream_path('nomad/v1-nodes.json')."""
    return _require(UPSTREAM_DIR / relative, "upstream fixture")


def upstream_json(relative: str) -> Any:
    return json.loads(upstream_path(relative).read_text())


def spec_path(relative: str) -> Path:
    return _require(SPEC_DIR / relative, "shared spec")
