"""Skip a test when a server is missing, but never under CI.

Locally a developer without Dovecot or PostgreSQL still gets a green run with skips; on CI a
missing server must turn the run red, otherwise whole test groups could silently stop running.
"""

from __future__ import annotations

import os

import pytest

_TRUTHY = {"1", "true", "yes", "on"}


def in_ci() -> bool:
    """Whether we run under CI (GitHub, GitLab and most others set ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in _TRUTHY


def require(condition: bool, reason: str) -> None:
    """Skip the current test when ``condition`` is false; fail instead when ``CI=true``."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)
