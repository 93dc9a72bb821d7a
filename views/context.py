"""What a page renders: one Snapshot, and where it came from (live, demo fleet, uploaded file)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fleet.model import Snapshot

SnapshotOrigin = Literal["live", "demo", "offline"]


@dataclass(frozen=True)
class PageContext:
    snapshot: Snapshot
    source: SnapshotOrigin
    # for offline snapshots: the uploaded file's name
    label: str = ""

    @property
    def read_only(self) -> bool:
        return self.source == "offline"
