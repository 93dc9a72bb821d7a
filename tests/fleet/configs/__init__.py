"""Config files for tests, and an editable copy of the valid one."""
from __future__ import annotations

import shutil
from pathlib import Path

CONFIGS = Path(__file__).parent


def editable_copy(folder: Path) -> Path:
    """Copy valid.yaml and the secret file it names into `folder`; returns the new clusters.yaml."""
    path = folder / "clusters.yaml"
    shutil.copy(CONFIGS / "valid.yaml", path)
    (folder / "secrets").mkdir()
    shutil.copy(CONFIGS / "secrets" / "legacy-password", folder / "secrets")
    return path
