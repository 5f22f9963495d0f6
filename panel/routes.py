"""Every page group of the panel, in the order of the navigation.

A page group is a module with `ROUTES`, a list of (URL pattern, handler
class), and optionally `NAV`, its (catalogue key, URL) in the navigation.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from panel.app import Panel


def page_groups() -> list[ModuleType]:
    from panel import (
        audit,
        broadcast_compose,
        broadcasts,
        dashboard,
        inbox,
        proposal_change,
        proposal_files,
        proposal_scores,
        proposals,
        ranking,
        signin,
        surveys,
    )

    return [
        signin,
        dashboard,
        surveys,
        proposals,
        proposal_change,
        proposal_scores,
        proposal_files,
        ranking,
        inbox,
        broadcasts,
        broadcast_compose,
        audit,
    ]


def url_patterns(panel: Panel) -> list[tuple[str, Any, dict[str, Any]]]:
    return [
        (pattern, handler, {"panel": panel})
        for group in page_groups()
        for pattern, handler in group.ROUTES
    ]


def navigation() -> list[tuple[str, str]]:
    return [group.NAV for group in page_groups() if hasattr(group, "NAV")]
