"""What the core knows of Docker Swarm (fleet/orchestrators.py)."""
from __future__ import annotations

from collectors.swarm.limits import LIMIT_CHECKS
from fleet.orchestrators import URL_FIELD, VERIFY_TLS_FIELD, OptionKey, OrchestratorFacts

FACTS = OrchestratorFacts(
    name="swarm",
    label="Docker Swarm",
    usage_source="never reported by the engine API",
    collector="collectors.swarm.fetch:SwarmCollector",
    # pins the Engine API version ("1.40"); by default the engine's newest (GET /version) is used
    options={"api_version": OptionKey("text")},
    # the schemes the docker SDK accepts for DOCKER_HOST
    url_schemes=("unix", "tcp", "http", "https", "npipe", "ssh"),
    takes_token=False,  # the engine API authenticates by TLS client certificate (tls:), not a token
    form_fields=(URL_FIELD, VERIFY_TLS_FIELD),
    limit_checks=LIMIT_CHECKS,
)
