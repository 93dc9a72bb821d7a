"""The shape of a JSON payload: every key path with the JSON types seen there, and enum values.

Lists become `[]`; maps whose keys are data (labels, options, attributes) become `{}`, so two
payloads with different labels still have the same shape. `null` (Go's nil slice or map) is
compatible with any type at the same path: an engine writes null where another has values.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

DATA_MAPS = {"Labels", "Attributes", "Options", "Runtimes", "IndexConfigs", "Networks", "DriverOpts"}
# paths whose values are enums, compared by value (the engine's documented sets)
ENUMS = {
    "Spec.Role": {"worker", "manager"},
    "Spec.Availability": {"active", "pause", "drain"},
    "Status.State": {"unknown", "down", "ready", "disconnected", "new", "allocated", "pending", "assigned", "accepted",
                     "preparing", "ready", "starting", "running", "complete", "shutdown", "failed", "rejected",
                     "remove", "orphaned"},
    "DesiredState": {"new", "pending", "assigned", "accepted", "preparing", "ready", "starting", "running",
                     "complete", "shutdown", "failed", "rejected", "remove", "orphaned"},
    "ManagerStatus.Reachability": {"unknown", "unreachable", "reachable"},
    "Spec.EndpointSpec.Mode": {"vip", "dnsrr"},
    "Spec.EndpointSpec.Ports[].PublishMode": {"ingress", "host"},
    "Spec.EndpointSpec.Ports[].Protocol": {"tcp", "udp", "sctp"},
    "Endpoint.Ports[].PublishMode": {"ingress", "host"},
    "Swarm.LocalNodeState": {"", "inactive", "pending", "active", "error", "locked"},
    "Spec.TaskTemplate.ContainerSpec.Isolation": {"default", "process", "hyperv", ""},
}
# enum paths whose values do not depend on timing: the same scenario shows the same set
STABLE_ENUMS = {"Spec.Role", "Spec.Availability", "ManagerStatus.Reachability", "Spec.EndpointSpec.Mode",
                "Spec.EndpointSpec.Ports[].PublishMode", "Endpoint.Ports[].PublishMode"}


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def walk(value: Any, path: str, types: dict[str, set[str]], values: dict[str, set[Any]]) -> None:
    types[path].add(type_name(value))
    if isinstance(value, dict):
        data_map = path.rsplit(".", 1)[-1] in DATA_MAPS
        for key, item in value.items():
            walk(item, f"{path}.{{}}" if data_map else (f"{path}.{key}" if path else key), types, values)
    elif isinstance(value, list):
        for item in value:
            walk(item, f"{path}[]", types, values)
    elif path in ENUMS:
        values[path].add(value)


def shape(objects: Iterable[Any]) -> tuple[dict[str, set[str]], dict[str, set[Any]]]:
    types: dict[str, set[str]] = defaultdict(set)
    values: dict[str, set[Any]] = defaultdict(set)
    for obj in objects:
        walk(obj, "", types, values)
    types.pop("", None)
    return dict(types), dict(values)


def differences(real: Iterable[Any], emulated: Iterable[Any], *, allowed: Iterable[str] = ()) -> list[str]:
    """Every way the emulated objects' shape differs from the real ones' (empty when they agree)."""
    real_types, real_values = shape(real)
    emulated_types, emulated_values = shape(emulated)
    skip = tuple(allowed)
    found = []
    for path in sorted(set(real_types) | set(emulated_types)):
        if path.startswith(skip) if skip else False:
            continue
        seen, made = real_types.get(path), emulated_types.get(path)
        if seen is None:
            found.append(f"{path}: only in the emulator ({sorted(made)})")
        elif made is None:
            found.append(f"{path}: missing in the emulator (real: {sorted(seen)})")
        elif (seen - {"null"}) and (made - {"null"}) and (seen - {"null"}) != (made - {"null"}):
            found.append(f"{path}: types differ (real {sorted(seen)}, emulated {sorted(made)})")
    for path, documented in ENUMS.items():
        for side, values in (("real", real_values), ("emulated", emulated_values)):
            unknown = values.get(path, set()) - documented
            if unknown:
                found.append(f"{path}: {side} values {sorted(unknown)} not in the engine's enum")
        if path in STABLE_ENUMS and real_values.get(path, set()) != emulated_values.get(path, set()):
            found.append(f"{path}: values differ (real {sorted(real_values.get(path, set()))}, "
                         f"emulated {sorted(emulated_values.get(path, set()))})")
    return found
