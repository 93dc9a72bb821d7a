"""Who may look, who may change: the whole app through AppTest, with its user mocked."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
AUTH = ("  auth:\n    admins: [boss@example.com]\n    viewers: [oncall@example.com]\n"
        "    group_claim: roles\n    viewer_groups: [sre]\n")


PROVIDER = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-only",
            "client_id": "podium", "client_secret": "test-only",
            "server_metadata_url": "https://login.example.com/.well-known/openid-configuration"}


def app_as(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, user: dict[str, Any] | None, *,
           auth: str = AUTH, extra: str = "", secrets: dict[str, Any] | None = None) -> AppTest:
    config = tmp_path / "clusters.yaml"
    config.write_text(f"settings:\n  demo: false\n{auth}{extra}clusters: []\n")
    monkeypatch.setenv("PODIUM_CONFIG", str(config))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.secrets["auth"] = PROVIDER if secrets is None else secrets
    if user is not None:
        app.user = user
    app.run()
    assert not app.exception, app.exception
    return app


def pages(app: AppTest) -> set[str]:
    return {info.get("url_pathname") for info in app._registered_pages.values()} - {None}


def signed_in(email: str, **claims: Any) -> dict[str, Any]:
    return {"is_logged_in": True, "email": email, **claims}


def test_without_auth_a_banner_says_the_dashboard_is_open(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, None, auth="")
    assert "Open dashboard" in app.sidebar.warning[0].value
    assert "settings" in pages(app)


def test_with_auth_a_signed_out_visitor_sees_only_the_sign_in_button(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, {"is_logged_in": False})
    assert [b.label for b in app.button] == ["Sign in"]
    assert "Sign in to see the fleet." in app.info[0].value
    assert pages(app) == set()
    assert not any("No clusters configured" in i.value for i in app.info)


def test_with_auth_but_no_provider_in_the_secrets_the_dashboard_stays_locked(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, {"is_logged_in": False}, secrets={})
    assert "has no `[auth]` section" in app.error[0].value
    assert not app.button and pages(app) == set()


def test_an_admin_by_email_sees_every_page_including_settings(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, signed_in("Boss@Example.com"))
    assert "settings" in pages(app)
    assert "Signed in as Boss@Example.com · admin" in app.sidebar.caption[0].value


def test_a_viewer_by_email_sees_every_page_but_settings(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, signed_in("oncall@example.com"))
    assert {"nodes", "health", "history"} <= pages(app) and "settings" not in pages(app)


def test_a_viewer_by_group_claim_sees_every_page_but_settings(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, signed_in("someone@example.com", roles=["sre"]))
    assert "Signed in as someone@example.com · viewer" in app.sidebar.caption[0].value
    assert "settings" not in pages(app)


def test_a_signed_in_stranger_is_refused_and_may_sign_out(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, signed_in("stranger@example.com"))
    assert "stranger@example.com is signed in but not allowed" in app.error[0].value
    assert [b.label for b in app.button] == ["Sign out"] and pages(app) == set()


def test_an_unverified_admin_email_is_refused(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, signed_in("boss@example.com", email_verified=False))
    assert "not allowed" in app.error[0].value


def test_signing_out_returns_to_the_sign_in_button(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, signed_in("boss@example.com"))
    next(b for b in app.sidebar.button if b.label == "Sign out").click().run()
    assert [b.label for b in app.button] == ["Sign in"]


def test_a_broken_config_that_asks_for_auth_stays_locked(monkeypatch, tmp_path):
    app = app_as(monkeypatch, tmp_path, None, extra="  surprise: 1\n")
    assert "stays locked" in app.error[0].value
    assert pages(app) == set()
