"""What the core knows of Nomad (fleet/orchestrators.py)."""
from __future__ import annotations

from fleet.orchestrators import COMMON_FIELDS, FormField, OptionKey, OrchestratorFacts

FACTS = OrchestratorFacts(
    name="nomad",
    label="Nomad",
    usage_source="from each client's /v1/client/stats",
    node_word="client",
    collector="collectors.nomad.fetch:NomadCollector",
    options={"regions": OptionKey("names"), "namespace": OptionKey("text", default="*")},
    form_fields=COMMON_FIELDS + (FormField("regions", "Regions", '"all", one region, or a comma-separated list',
                                           "names"),
                                 FormField("namespace", "Namespace", '"*" for every namespace')),
)
