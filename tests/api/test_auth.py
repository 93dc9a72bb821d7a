"""API auth: with `settings.auth`, a Bearer API token (kept hashed) or 401 with no data; without it, open.
A canary token and a canary cluster credential never appear in any answer."""
from __future__ import annotations

import pytest
import requests

from fleet.auth import hash_token
from tests.api.serving import ApiServer
from tests.api.test_routes import build

CANARY_TOKEN = "podium_canary-3f9c1e7a5b2d4c6e8a0b1c2d3e4f5a6b"
CANARY_SECRET = "canary-cluster-secret-81f2a9"
ROUTES = ["/healthz", "/readyz", "/api/v1/snapshot", "/api/v1/clusters", "/api/v1/clusters/alpha",
          "/api/v1/clusters/nope", "/api/v1/problems", "/api/v1/analysis", "/api/v1/status", "/metrics",
          "/api/v1/unknown"]
OPEN = {"/healthz", "/readyz", "/api/v1/status"}


def config_text(auth: str) -> str:
    return ("settings:\n  poll_interval_s: 60\n  timeout_s: 1\n  demo: false\n" + auth +
            "clusters:\n  - name: alpha\n    orchestrator: swarm\n    url: tcp://alpha:2376\n"
            "  - name: beta\n    orchestrator: nomad\n    url: http://beta:4646\n    token_env: PODIUM_TEST_CANARY\n")


AUTH = (f"  auth:\n    viewers: ['*']\n    api_tokens:\n      - name: ci\n        sha256: {hash_token(CANARY_TOKEN)}\n"
        "        created_at: '2026-11-30T12:00:00Z'\n")


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PODIUM_TEST_CANARY", CANARY_SECRET)
        config = tmp_path_factory.mktemp("auth") / "clusters.yaml"
        config.write_text(config_text(AUTH))
        server = ApiServer(config, build).start().wait_ready()
        yield server
        server.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", sorted(set(ROUTES) - OPEN))
def test_without_a_token_every_data_route_is_401_with_no_data(secured, path):
    answer = secured.get(path)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == 'Bearer realm="podium"'
    assert answer.json() == {"error": "this API needs an `Authorization: Bearer <token>` header with an API token "
                                      "(see docs/api.md)"}


@pytest.mark.parametrize("path", sorted(set(ROUTES) - OPEN))
def test_a_wrong_token_is_401(secured, path):
    answer = secured.get(path, headers=bearer(CANARY_TOKEN + "x"))
    assert answer.status_code == 401
    assert answer.json() == {"error": "the API token is not valid (unknown or revoked)"}


def test_a_token_in_another_scheme_is_401(secured):
    assert secured.get("/api/v1/snapshot", headers={"Authorization": f"Basic {CANARY_TOKEN}"}).status_code == 401


@pytest.mark.parametrize("path", sorted(OPEN))
def test_health_readiness_and_status_need_no_token(secured, path):
    assert secured.get(path).status_code == 200


def test_the_api_token_reads_every_route(secured):
    codes = {path: secured.get(path, headers=bearer(CANARY_TOKEN)).status_code for path in ROUTES}
    assert codes == {**{path: 200 for path in ROUTES}, "/api/v1/clusters/nope": 404, "/api/v1/unknown": 404}


def test_canaries_never_appear_in_any_answer(secured):
    for path in ROUTES:
        for headers in ({}, bearer(CANARY_TOKEN), bearer(CANARY_TOKEN + "x")):
            answer = secured.get(path, headers=headers)
            shown = answer.text + repr(dict(answer.headers))
            assert CANARY_TOKEN not in shown and CANARY_SECRET not in shown, (path, headers)
            assert hash_token(CANARY_TOKEN) not in shown, (path, headers)


def test_without_auth_the_api_is_open(tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text(config_text(""))
    server = ApiServer(config, build).start().wait_ready()
    try:
        assert {path: server.get(path).status_code for path in ("/api/v1/snapshot", "/metrics")} == \
            {"/api/v1/snapshot": 200, "/metrics": 200}
    finally:
        server.stop()


def test_a_broken_config_that_mentions_auth_keeps_the_api_locked(tmp_path):
    config = tmp_path / "clusters.yaml"
    config.write_text(config_text(AUTH).replace("viewers: ['*']", "viewers: 7"))
    server = ApiServer(config, build).start()
    try:
        answer = server.get("/api/v1/clusters", headers=bearer(CANARY_TOKEN))
        assert answer.status_code == 401 and "stays locked" in answer.json()["error"]
        assert server.get("/healthz").status_code == 200
    finally:
        server.stop()


def test_a_revoked_token_stops_working_without_restarting_collection(secured):
    runtime = secured.server.runtime
    poller = runtime.poller
    text = runtime.config_path.read_text()
    try:
        runtime.config_path.write_text(config_text("  auth:\n    viewers: ['*']\n"))
        runtime.reload_auth()
        assert secured.get("/api/v1/clusters", headers=bearer(CANARY_TOKEN)).status_code == 401
        assert runtime.poller is poller
    finally:
        runtime.config_path.write_text(text)
        runtime.reload_auth()
    assert secured.get("/api/v1/clusters", headers=bearer(CANARY_TOKEN)).status_code == 200
    assert requests.get(secured.url + "/healthz", timeout=5).status_code == 200
