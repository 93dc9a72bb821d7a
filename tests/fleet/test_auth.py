"""The roles `settings.auth` grants (pure logic, fleet/auth.py) and how the file is checked."""
from __future__ import annotations

import pytest

from fleet.auth import AuthPolicy, mentions_auth, role_of
from fleet.config import ConfigError, parse_config

POLICY = AuthPolicy(admins=frozenset({"boss@example.com"}), viewers=frozenset({"oncall@example.com"}),
                    admin_groups=frozenset({"podium-admins"}), viewer_groups=frozenset({"sre"}))


def test_an_admin_email_is_admin_whatever_its_case():
    assert role_of(POLICY, {"email": "BOSS@example.com"}) == "admin"


def test_a_viewer_email_is_viewer():
    assert role_of(POLICY, {"email": "oncall@example.com"}) == "viewer"


def test_an_admin_group_makes_an_admin():
    assert role_of(POLICY, {"email": "x@example.com", "groups": ["sre", "podium-admins"]}) == "admin"


def test_a_viewer_group_makes_a_viewer():
    assert role_of(POLICY, {"email": "x@example.com", "groups": ["sre"]}) == "viewer"


def test_the_group_claim_name_is_configurable():
    policy = AuthPolicy(viewer_groups=frozenset({"sre"}), group_claim="roles")
    assert role_of(policy, {"groups": ["sre"]}) is None
    assert role_of(policy, {"roles": ["sre"]}) == "viewer"


def test_an_unlisted_user_has_no_role():
    assert role_of(POLICY, {"email": "stranger@example.com", "groups": ["finance"]}) is None


def test_an_unverified_email_grants_nothing():
    assert role_of(POLICY, {"email": "boss@example.com", "email_verified": False}) is None


def test_a_star_in_viewers_lets_every_signed_in_user_look():
    assert role_of(AuthPolicy(viewers=frozenset({"*"})), {"email": "anyone@example.com"}) == "viewer"


def test_auth_settings_load_into_a_policy():
    text = "settings:\n  auth:\n    admins: [Boss@Example.com]\n    group_claim: roles\n    provider: corp\n"
    policy = parse_config(text, "c.yaml", environ={}).settings.auth
    assert policy == AuthPolicy(admins=frozenset({"boss@example.com"}), group_claim="roles", provider="corp")


@pytest.mark.parametrize("text, expected", [
    ("settings:\n  auth:\n    admins: [a@x.io]\n    viewer: [b@x.io]\n", "c.yaml:4: settings.auth.viewer: unknown key"),
    ("settings:\n  auth:\n    admins: a@x.io\n", "c.yaml:3: settings.auth.admins: must be a list"),
    ("settings:\n  auth:\n    group_claim: roles\n", "c.yaml:2: settings.auth: nobody could get in"),
    ("settings:\n  auth: yes\n", "c.yaml:2: settings.auth: must be a mapping"),
])
def test_invalid_auth_settings_name_the_file_line_and_key(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.yaml", environ={})
    assert expected in str(caught.value)


def test_a_commented_out_auth_block_is_not_asking_for_sign_in():
    assert not mentions_auth("settings:\n  # auth:\n  #   admins: [a@x.io]\n")
    assert mentions_auth("settings:\n  auth:\n    admins: [a@x.io\n")
