"""Lighthouse's API shapes: what GET /v1/fleets/<fleet_id>[/hosts|/services|/replicas] answers."""
from __future__ import annotations

from datetime import datetime

from collectors.toolkit import Wire


class Fleet(Wire):
    name: str
    version: str


class Host(Wire):
    id: str
    hostname: str
    state: str  # up | draining | down
    zone: str | None = None
    cpu_millis: int = 0
    mem_mib: int = 0


class Service(Wire):
    id: str
    name: str
    mode: str  # replicated | everywhere (one replica on every up host)
    replicas: int | None = None  # replicated services only
    image: str = ""
    cpu_millis: int = 0  # per replica
    mem_mib: int = 0


class Replica(Wire):
    id: str
    name: str
    service: str
    state: str  # running | starting | crashed | exited
    host: str | None = None
    restarts: int = 0
    reason: str | None = None
    started: datetime | None = None
