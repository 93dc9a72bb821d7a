"""Snapshot exports: a small registry of formats (JSON, CSV tables, a ZIP of the CSV tables).

Every export is computed from one Snapshot value; none carries a credential because the model
holds none.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any, Callable, Iterable

import msgspec

from fleet.model import Cluster, Port, Snapshot, encode_snapshot

NODE_COLUMNS = ["cluster", "orchestrator", "id", "name", "status", "schedulable", "roles", "address", "zone",
                "region", "cpu_capacity_cores", "mem_capacity_bytes", "cpu_allocatable_cores",
                "mem_allocatable_bytes", "cpu_allocated_cores", "mem_allocated_bytes", "cpu_used_cores",
                "mem_used_bytes", "labels", "version", "os", "arch"]
WORKLOAD_COLUMNS = ["cluster", "orchestrator", "id", "name", "namespace", "kind", "desired", "running", "healthy",
                    "status", "images", "cpu_request_cores", "mem_request_bytes", "per_node"]
INSTANCE_COLUMNS = ["cluster", "orchestrator", "id", "name", "workload_id", "node_id", "state", "health",
                    "restarts", "reason", "started_at"]
SERVICE_COLUMNS = ["cluster", "orchestrator", "id", "name", "namespace", "kind", "status", "addresses", "ports",
                   "workload_ids", "backends_total", "backends_ready"]
EVENT_COLUMNS = ["cluster", "orchestrator", "time", "severity", "object", "reason", "message"]
CLUSTER_COLUMNS = ["name", "orchestrator", "endpoint", "status", "error", "version", "collected_at", "stale",
                   "nodes_total", "nodes_ready", "workloads_total", "instances_total", "cpu_capacity_cores",
                   "cpu_allocatable_cores", "cpu_allocated_cores", "mem_capacity_bytes", "mem_allocatable_bytes",
                   "mem_allocated_bytes", "cpu_used_cores", "mem_used_bytes"]


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in sorted(value.items()))
    return value


def _rows(clusters: Iterable[Cluster], attribute: str) -> Iterable[dict[str, Any]]:
    for cluster in clusters:
        for item in getattr(cluster, attribute):
            row = msgspec.structs.asdict(item)
            yield {"cluster": cluster.name, "orchestrator": cluster.orchestrator, **row}


def port_cell(port: Port) -> str:
    """`80/tcp>8080@30080`: service port and protocol, then its target, then its published port."""
    return (f"{port.port}/{port.protocol}" + (f">{port.target}" if port.target else "")
            + (f"@{port.published}" if port.published else ""))


def _service_rows(clusters: Iterable[Cluster]) -> Iterable[dict[str, Any]]:
    for row in _rows(clusters, "services"):
        yield {**row, "ports": [port_cell(p) for p in row["ports"]]}


def _cluster_rows(clusters: Iterable[Cluster]) -> Iterable[dict[str, Any]]:
    for cluster in clusters:
        row = msgspec.structs.asdict(cluster)
        yield {**row, **msgspec.structs.asdict(cluster.summary)}


def _csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(row.get(k)) for k in columns})
    return buffer.getvalue()


def csv_tables(snapshot: Snapshot) -> dict[str, str]:
    """The CSV tables of the contract, by file name."""
    clusters = snapshot.clusters
    return {
        "clusters.csv": _csv(CLUSTER_COLUMNS, _cluster_rows(clusters)),
        "nodes.csv": _csv(NODE_COLUMNS, _rows(clusters, "nodes")),
        "workloads.csv": _csv(WORKLOAD_COLUMNS, _rows(clusters, "workloads")),
        "instances.csv": _csv(INSTANCE_COLUMNS, _rows(clusters, "instances")),
        "events.csv": _csv(EVENT_COLUMNS, _rows(clusters, "events")),
        "services.csv": _csv(SERVICE_COLUMNS, _service_rows(clusters)),
    }


def to_json(snapshot: Snapshot) -> bytes:
    return encode_snapshot(snapshot)


def to_csv_zip(snapshot: Snapshot) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in csv_tables(snapshot).items():
            archive.writestr(name, text)
    return buffer.getvalue()


# name -> (file extension, MIME type, renderer)
FORMATS: dict[str, tuple[str, str, Callable[[Snapshot], bytes]]] = {
    "json": ("json", "application/json", to_json),
    "csv-zip": ("zip", "application/zip", to_csv_zip),
}


def export_file_name(snapshot: Snapshot, fmt: str) -> str:
    stamp = snapshot.taken_at.strftime("%Y%m%dT%H%M%SZ")
    return f"podium-snapshot-{stamp}.{FORMATS[fmt][0]}"
