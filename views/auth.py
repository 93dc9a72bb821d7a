"""Sign-in and roles on every page: Streamlit's OIDC login (`st.login`) when `settings.auth` is set,
and a banner saying the dashboard is open when it is not. Role logic lives in fleet/auth.py."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from fleet.auth import AuthPolicy, Role, may_edit_settings, role_of

OPEN_BANNER = ("**Open dashboard**: anyone who can reach this address sees every cluster and may edit Settings. "
               "Configure `auth` in the settings (OIDC sign-in) or put Podium behind an authenticating proxy — "
               "see docs/security.md.")
LOCKED = ("The configuration has problems and mentions `auth`: the dashboard stays locked until the file is "
          "fixed, rather than opening to everyone.")

NO_PROVIDER = ("Sign-in is required (`auth` in the settings), but `.streamlit/secrets.toml` has no `[{section}]` "
               "section with the OpenID Connect provider: the dashboard stays locked until it has (docs/security.md).")


@dataclass(frozen=True)
class Visitor:
    """Who is looking: their role, and whether the dashboard is open (no sign-in configured)."""

    role: Role
    email: str | None = None
    open: bool = False

    @property
    def may_edit_settings(self) -> bool:
        return may_edit_settings(self.role)


def admit(policy: AuthPolicy | None, *, locked: bool = False) -> Visitor:
    """The visitor of this run; stops the script (after saying why) for anyone not let in."""
    if locked:
        st.error(LOCKED, icon=":material/lock:")
        st.stop()
    if policy is None:
        st.sidebar.warning(OPEN_BANNER, icon=":material/lock_open:")
        return Visitor("admin", open=True)
    if not st.user.get("is_logged_in"):
        if not provider_configured(policy):
            st.error(NO_PROVIDER.format(section=f"auth.{policy.provider}" if policy.provider else "auth"),
                     icon=":material/lock:")
        else:
            sign_in(policy)
        st.stop()
    claims = st.user.to_dict()
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    role = role_of(policy, claims)
    if role is None:
        refused(email)
        st.stop()
    signed_in_as(email, role)  # type: ignore[arg-type]
    return Visitor(role, email)  # type: ignore[arg-type]


def provider_configured(policy: AuthPolicy) -> bool:
    """Whether secrets.toml has the [auth] (or [auth.<provider>]) section st.login needs."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml at all
        return False
    if not section:
        return False
    return policy.provider is None or policy.provider in section


def sign_in(policy: AuthPolicy) -> None:
    st.title("Podium")
    st.info("Sign in to see the fleet.", icon=":material/lock:")
    st.button("Sign in", key="auth-sign-in", type="primary", on_click=st.login,
              args=(policy.provider,) if policy.provider else ())


def refused(email: str | None) -> None:
    st.error(f"{email or 'This account'} is signed in but not allowed to see this dashboard. Ask a Podium "
             "admin to add you to `auth` in the settings.", icon=":material/block:")
    st.button("Sign out", key="auth-sign-out", on_click=st.logout)


def signed_in_as(email: str | None, role: Role) -> None:
    st.sidebar.caption(f"Signed in as {email or 'unknown'} · {role}")
    st.sidebar.button("Sign out", key="auth-sign-out", on_click=st.logout)


def admins_only() -> None:
    """What a viewer sees where only admins may be (Settings, reached by its address)."""
    st.error("Only admins may change Settings.", icon=":material/block:")
