"""The built-in alert conditions of the contract (/work/shared/spec/http-api.md): names, default
severities, and which ones look inside a cluster (and so freeze while the cluster cannot be read)."""
from __future__ import annotations

from typing import Literal

AlertSeverity = Literal["critical", "warning"]
SEVERITIES: tuple[str, ...] = ("critical", "warning")

# name -> default severity; the order is the order of the page and the docs
CONDITIONS: dict[str, AlertSeverity] = {
    "PodiumClusterDown": "critical",
    "PodiumClusterStale": "warning",
    "PodiumNodeNotReady": "warning",
    "PodiumWorkloadFailed": "critical",
    "PodiumWorkloadDegraded": "warning",
    "PodiumServiceDown": "critical",
    "PodiumNotNPlus1": "warning",
    "PodiumZoneLossUnsafe": "warning",
    "PodiumAutoscalerLimited": "warning",
}
# conditions about the cluster as a whole: evaluated whatever its status
CLUSTER_CONDITIONS = frozenset({"PodiumClusterDown", "PodiumClusterStale"})
# conditions that need the failure-impact analysis (fleet/analysis.py)
ANALYSIS_CONDITIONS = frozenset({"PodiumNotNPlus1", "PodiumZoneLossUnsafe"})

DEFAULT_FOR_ROUNDS = 2
DEFAULT_FLAP_WINDOW_ROUNDS = 20
DEFAULT_RESEND_INTERVAL_S = 60.0
