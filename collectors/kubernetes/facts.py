"""What the core knows of Kubernetes (fleet/orchestrators.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from collectors.kubernetes.limits import LIMIT_CHECKS
from fleet.orchestrators import COMMON_FIELDS, FormField, OptionKey, OrchestratorFacts

if TYPE_CHECKING:  # worker processes import this package; they need no config loader
    from fleet.config import ClusterConfig


def describe_endpoint(config: ClusterConfig) -> str:
    if config.option("kubeconfig"):
        return f"kubeconfig:{config.option('context') or '(current context)'}"
    return "in-cluster"


FACTS = OrchestratorFacts(
    name="kubernetes",
    label="Kubernetes",
    usage_source="needs metrics-server (metrics.k8s.io)",
    collector="collectors.kubernetes.fetch:KubernetesCollector",
    options={"kubeconfig": OptionKey("path"), "context": OptionKey("text")},
    url_required=False,  # a kubeconfig, or the pod's own service account, will do
    form_fields=COMMON_FIELDS + (FormField("kubeconfig", "kubeconfig file", "instead of URL + token"),
                                 FormField("context", "kubeconfig context")),
    describe_endpoint=describe_endpoint,
    limit_checks=LIMIT_CHECKS,
)
