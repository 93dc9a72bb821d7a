"""What the core knows of Marathon on Mesos (fleet/orchestrators.py)."""
from __future__ import annotations

from fleet.orchestrators import COMMON_FIELDS, FormField, OptionKey, OrchestratorFacts

FACTS = OrchestratorFacts(
    name="marathon",
    label="Marathon / Mesos",
    usage_source="not reported (the Mesos master gives allocations only)",
    node_word="agent",
    collector="collectors.marathon.fetch:MarathonCollector",
    options={"mesos_url": OptionKey("url", required="nodes (agents) come from the Mesos master"),
             "username": OptionKey("text"),
             "password_env": OptionKey("secret_env", secret="password"),
             "password_file": OptionKey("secret_file", secret="password")},
    form_fields=COMMON_FIELDS + (FormField("mesos_url", "Mesos master URL", "agents come from the Mesos master"),
                                 FormField("username", "Username (basic auth)"),
                                 FormField("password_env", "Password environment variable")),
)
