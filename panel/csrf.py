"""Cross-site request forgery: every POST carries a token that a forged request cannot.

Tornado's own check (`xsrf_cookies`) does the work: each form has a hidden
`_xsrf` field (`csrf_field()` in the templates), matched against a cookie that
is HttpOnly and SameSite=Strict; every POST, PUT or DELETE without a match is
answered 403 before any handler code runs, the sign-in form included.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup


def settings(*, secure: bool) -> dict[str, Any]:
    """The Tornado application settings that turn the check on."""
    return {
        "xsrf_cookies": True,
        "xsrf_cookie_name": "lokalnie_xsrf",
        "xsrf_cookie_kwargs": {"httponly": True, "samesite": "Strict", "secure": secure},
    }


def field(handler: Any) -> Markup:
    """The hidden form field (Tornado escapes its value)."""
    return Markup(handler.xsrf_form_html())
