"""deploy/kubernetes's ClusterRole is exact: the emulator enforces that very manifest (sim/kubernetes/rbac.py).

With the role the collector reads everything it reads with an unrestricted token; without any one
of its grants it loses data or fails, saying what was forbidden; it grants no write verb and
nothing on secrets; and the collector asks for exactly what it grants.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
import pytest

from fleet.source import ClusterData, SourceError
from sim.kubernetes import Knobs, resources
from sim.kubernetes.rbac import ClusterRole, Grant, load_cluster_role, resource_attributes
from tests.engines import wait_for
from tests.sim.kubernetes.harness import TOKEN, collector, running

ROOT = Path(__file__).resolve().parents[2]
ROLE_FILE = ROOT / "deploy" / "kubernetes" / "clusterrole.yaml"
ROLE = load_cluster_role(ROLE_FILE)
READER_TOKEN = "podium-reader-token-5f1c0a9e"
USER = "system:serviceaccount:podium:podium"
KNOBS = Knobs(seed=7, nodes=6, pods_per_node=6, namespaces=3, problem_share=0.3)
# read only when the preferred resource cannot be: (group, plural) -> the one it stands in for
FALLBACK_FOR = {("", "endpoints"): ("discovery.k8s.io", "endpointslices")}
FALLBACK_OF = {preferred: fallback for fallback, preferred in FALLBACK_FOR.items()}
Grantee = tuple[str, str, str]  # (verb, group, plural)
# granted for what [svc-k8s] (issue #16) adds to the collector and the emulator; until the emulator
# serves them, their tests skip saying so (any other unserved grant fails: nothing reads it)
AWAITING = {("", "services"), ("", "endpoints"), ("discovery.k8s.io", "endpointslices"),
            ("autoscaling", "horizontalpodautoscalers")}


def grants(role: ClusterRole) -> set[Grantee]:
    return {(verb, group, plural) for rule in role.rules for verb in rule.verbs
            for group in rule.api_groups for plural in rule.resources}


def served(group: str, plural: str) -> bool:
    """Whether the emulator serves it; a grant it does not serve must be one that waits on [svc-k8s]."""
    if (group, plural) in resources.BY_KEY:
        return True
    assert (group, plural) in AWAITING, f"the role grants {group or 'core'}/{plural}, which nothing serves or reads"
    return False


def without_resource(role: ClusterRole, group: str, plural: str) -> ClusterRole:
    rules = [replace(rule, resources=tuple(r for r in rule.resources if r != plural))
             if group in rule.api_groups else rule for rule in role.rules]
    return ClusterRole(role.name, tuple(rule for rule in rules if rule.resources or rule.non_resource_urls))


def collect(role: ClusterRole | None, *, watch: bool = False) -> tuple[ClusterData | SourceError, set[Grantee]]:
    """One round as a token bound to `role` (None: the unrestricted token); what came back and
    which (verb, group, plural) the collector asked for."""
    token = TOKEN if role is None else READER_TOKEN
    with running(KNOBS, token=TOKEN, grants={READER_TOKEN: Grant(USER, role or ROLE)}) as cluster:
        with collector(cluster, token=token, watch=watch, page_size=20) as source:
            try:
                outcome: ClusterData | SourceError = source.collect(10.0)
            except SourceError as exc:
                outcome = exc
            if watch and not isinstance(outcome, SourceError):  # the watches open in their own threads
                wait_for(lambda: any(q.get("watch") for _, _, q in list(cluster.server.requests)) and
                         len(asked(cluster.server.requests, "watch")) >= len(WATCHED_NOW), what="watches to open")
        return outcome, asked(cluster.server.requests)


def asked(requests: list[tuple[str, str, dict[str, list[str]]]], only_verb: str | None = None) -> set[Grantee]:
    seen = set()
    for _, path, query in list(requests):
        asked = resource_attributes(path)
        if asked is None:
            continue
        verb = "watch" if query.get("watch") else ("get" if asked.name else "list")
        if only_verb is None or verb == only_verb:
            seen.add((verb, asked.group, asked.resource))
    return seen


WATCHED_NOW = {g for g in grants(ROLE) if g[0] == "watch" and served(g[1], g[2]) and g[1:] not in FALLBACK_FOR}


@pytest.fixture(scope="module")
def unrestricted() -> ClusterData:
    outcome, _ = collect(None)
    assert isinstance(outcome, ClusterData), outcome
    return outcome


def test_the_manifest_has_no_write_verb_and_no_secrets():
    from ruamel.yaml import YAML

    document = YAML(typ="safe").load(ROLE_FILE.read_text())
    verbs = {verb for rule in document["rules"] for verb in rule["verbs"]}
    assert verbs <= {"get", "list", "watch"}, verbs
    for rule in document["rules"]:
        assert "*" not in rule["verbs"] + rule["apiGroups"] + rule["resources"], rule
        assert "secrets" not in rule["resources"] and "configmaps" not in rule["resources"], rule
        assert not rule.get("nonResourceURLs"), "discovery and /version come with system:discovery"


def test_the_deployment_runs_as_the_bound_service_account():
    from ruamel.yaml import YAML

    folder = ROLE_FILE.parent
    binding = YAML(typ="safe").load((folder / "clusterrolebinding.yaml").read_text())
    deployment = YAML(typ="safe").load_all((folder / "deployment.yaml").read_text())
    spec = next(d for d in deployment if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE.name}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": spec["serviceAccountName"],
                                    "namespace": "podium"}]


def test_with_the_role_the_collector_reads_everything(unrestricted):
    outcome, _ = collect(ROLE)
    assert isinstance(outcome, ClusterData), outcome
    assert outcome.degraded_reason is None
    assert outcome == unrestricted
    assert outcome.nodes and outcome.workloads and outcome.instances and outcome.events
    assert any(node.cpu_used_cores is not None for node in outcome.nodes), "node usage (metrics.k8s.io) read"


def test_the_collector_asks_for_exactly_what_the_role_grants():
    outcome, seen = collect(None, watch=True)
    assert isinstance(outcome, ClusterData), outcome
    wanted = {g for g in grants(ROLE) if served(g[1], g[2]) and g[1:] not in FALLBACK_FOR}
    assert seen == wanted


def test_a_fallback_grant_is_asked_for_once_the_preferred_resource_is_refused():
    for (group, plural), (pgroup, pplural) in FALLBACK_FOR.items():
        if not (served(group, plural) and served(pgroup, pplural)):
            pytest.skip(f"the emulator serves no {pplural} yet (waits on [svc-k8s], issue #16)")
        _, seen = collect(without_resource(ROLE, pgroup, pplural))
        assert ("list", group, plural) in seen


def _expect_loss(outcome: ClusterData | SourceError, full: ClusterData, removed: list[tuple[str, str]],
                 seen: set[Grantee]) -> None:
    """Removing grants must lose data or fail, and the message must say what was forbidden; or,
    for a resource with an older stand-in, the collector must read that instead."""
    if outcome == full and removed and all(r in FALLBACK_OF for r in removed):
        # the older API stands in (v1 Endpoints: deprecated since 1.33, at most 1000 addresses an object)
        for resource in removed:
            group, plural = FALLBACK_OF[resource]
            assert ("list", group, plural) in seen, f"nothing was lost without {resource}, nothing read instead"
        return
    named = [f'cannot list resource "{plural}"' for _, plural in removed]
    if isinstance(outcome, SourceError):
        assert "forbidden (403)" in outcome.message and any(n in outcome.message for n in named), outcome.message
        return
    assert outcome != full, f"nothing was lost without {removed}: the grant is not needed"
    assert outcome.degraded_reason and any(n in outcome.degraded_reason for n in named), outcome.degraded_reason


GRANTED = sorted({(group, plural) for _, group, plural in grants(ROLE)})


@pytest.mark.parametrize("group, plural", GRANTED, ids=[f"{g or 'core'}/{p}" for g, p in GRANTED])
def test_removing_any_one_resource_loses_data_or_fails_clearly(group, plural, unrestricted):
    if not served(group, plural):
        pytest.skip(f"the emulator serves no {group or 'core'}/{plural} yet (waits on [svc-k8s], issue #16)")
    baseline, role = unrestricted, without_resource(ROLE, group, plural)
    if (group, plural) in FALLBACK_FOR:  # only needed where the preferred resource is not readable
        pgroup, pplural = FALLBACK_FOR[(group, plural)]
        outcome, _ = collect(without_resource(ROLE, pgroup, pplural))
        assert isinstance(outcome, ClusterData), outcome
        baseline, role = outcome, without_resource(role, pgroup, pplural)
    outcome, seen = collect(role)
    _expect_loss(outcome, baseline, [(group, plural)], seen)


@pytest.mark.parametrize("index", range(len(ROLE.rules)),
                         ids=[f"rules[{i}]-{'+'.join(r.resources)}" for i, r in enumerate(ROLE.rules)])
def test_removing_any_one_rule_loses_data_or_fails_clearly(index, unrestricted):
    rule = ROLE.rules[index]
    if not any(served(group, plural) for group in rule.api_groups for plural in rule.resources):
        pytest.skip(f"the emulator serves none of {list(rule.resources)} yet (waits on [svc-k8s], issue #16)")
    if any((group, plural) in FALLBACK_FOR for group in rule.api_groups for plural in rule.resources):
        pytest.skip("a fallback-only rule: test_removing_any_one_resource covers it where it is needed")
    outcome, seen = collect(ROLE.without(index))
    _expect_loss(outcome, unrestricted, [(g, r) for g in rule.api_groups for r in rule.resources], seen)
