"""What the core knows of Lighthouse (fleet/orchestrators.py), declared as a real orchestrator does."""
from __future__ import annotations

from fleet.limits import LimitWarning
from fleet.model import Cluster
from fleet.orchestrators import COMMON_FIELDS, FormField, OptionKey, OrchestratorFacts

# Lighthouse keeps its hosts in step with one gossip ring; past this many it warns of slow convergence
MAX_HOSTS = 3
LIMITS_PAGE = "https://lighthouse.example/docs/limits#hosts"


def hosts(cluster: Cluster) -> list[LimitWarning]:
    count = len(cluster.nodes)
    if count <= MAX_HOSTS:
        return []
    return [LimitWarning(limit="hosts_max", value=count, threshold=MAX_HOSTS, source=LIMITS_PAGE,
                         message=f"{count} hosts; one Lighthouse ring converges slowly past {MAX_HOSTS}")]


FACTS = OrchestratorFacts(
    name="lighthouse",
    label="Lighthouse",
    usage_source="never reported by the fleet API",
    collector="tests.fifth.fetch:LighthouseCollector",
    options={"fleet_id": OptionKey("text", required="the fleet to read; one Lighthouse server keeps several")},
    url_schemes=("http", "https"),
    form_fields=COMMON_FIELDS + (FormField("fleet_id", "Fleet ID", "the fleet's id on the Lighthouse server"),),
    limit_checks=(hosts,),
)
