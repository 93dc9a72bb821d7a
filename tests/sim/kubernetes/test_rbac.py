"""The emulator's RBAC: tokens bound to a ClusterRole manifest, denials worded as the real server's."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from sim.kubernetes import Knobs
from sim.kubernetes.rbac import Grant, RoleError, load_cluster_role
from tests.sim.kubernetes.harness import TOKEN, running

USER = "system:serviceaccount:monitoring:viewer"
VIEWER = "viewer-token-0b7d"
ROLE = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer}
rules:
  - apiGroups: [""]
    resources: [nodes]
    verbs: [list]
  - apiGroups: [apps]
    resources: [deployments]
    resourceNames: [web]
    verbs: [get]
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    path = tmp_path_factory.mktemp("rbac") / "role.yaml"
    path.write_text(ROLE)
    grant = Grant(USER, load_cluster_role(path))
    with running(Knobs(seed=5, nodes=2, pods_per_node=2, namespaces=1), token=TOKEN, grants={VIEWER: grant}) as c:
        yield c


def get(cluster, path: str, token: str = VIEWER, **params) -> requests.Response:
    return requests.get(cluster.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_a_granted_list_is_served(cluster):
    assert get(cluster, "/api/v1/nodes").status_code == 200


def test_a_verb_outside_the_role_is_forbidden_in_the_servers_words(cluster):
    response = get(cluster, "/api/v1/nodes", watch="1")
    assert response.status_code == 403
    assert response.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden", "code": 403,
        "message": f'nodes is forbidden: User "{USER}" cannot watch resource "nodes" in API group "" '
                   "at the cluster scope",
        "details": {"group": "", "kind": "nodes"}}


@pytest.mark.parametrize("path, message", [
    # a namespaced get names the namespace and the object
    ("/apis/apps/v1/namespaces/team-a/deployments/api", 'deployments.apps "api" is forbidden: User "{user}" cannot '
     'get resource "deployments" in API group "apps" in the namespace "team-a"'),
    # a resource the emulator does not serve is still denied first, as the real server does
    ("/api/v1/namespaces/default/secrets", 'secrets is forbidden: User "{user}" cannot list resource "secrets" '
     'in API group "" in the namespace "default"'),
    # a subresource is its own resource
    ("/api/v1/namespaces/default/pods/web-0/log", 'pods "web-0" is forbidden: User "{user}" cannot get resource '
     '"pods/log" in API group "" in the namespace "default"'),
], ids=["namespaced-get", "unserved-resource", "subresource"])
def test_denials_are_worded_as_the_real_servers(cluster, path, message):
    response = get(cluster, path)
    assert (response.status_code, response.json()["message"]) == (403, message.format(user=USER))


def test_resource_names_limit_a_rule_to_those_objects(cluster):
    assert get(cluster, "/apis/apps/v1/deployments").status_code == 403  # a list is not a get of "web"
    assert get(cluster, "/apis/apps/v1/namespaces/team-a/deployments/web").status_code in (200, 404)


def test_discovery_and_version_come_with_every_authenticated_user(cluster):
    for path in ("/version", "/api", "/apis", "/api/v1", "/apis/apps/v1"):
        assert get(cluster, path).status_code == 200, path


def test_an_unknown_token_is_unauthorized_not_forbidden(cluster):
    assert get(cluster, "/api/v1/nodes", token="guess").status_code == 401


def test_the_unrestricted_token_is_not_held_to_the_role(cluster):
    assert get(cluster, "/api/v1/pods", token=TOKEN).status_code == 200
    assert get(cluster, "/api/v1/pods").status_code == 403


@pytest.mark.parametrize("text, problem", [
    ("kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: x}\n", "expected one ClusterRole"),
    ("kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: x}\nrules: [{verbs: [get]}]\n",
     "rules[0]: a rule names either resources"),
    ("kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: x}\n"
     "rules: [{verbs: [get], resources: [pods], apiGroup: ['']}]\n", "unknown keys ['apiGroup']"),
])
def test_a_bad_manifest_is_refused_saying_where(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "role.yaml"
    path.write_text(text)
    with pytest.raises(RoleError, match=problem.replace("[", r"\[").replace("]", r"\]")) as raised:
        load_cluster_role(path)
    assert str(path) in str(raised.value)

