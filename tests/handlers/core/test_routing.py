"""Routes are composed in one place; a name registered twice stops the start."""

from __future__ import annotations

import pytest

from handlers.core.routing import DuplicateRoute, Router, Routes
from handlers.routes import ROUTES


async def nothing(*_args: object) -> list:
    return []


def test_a_command_registered_by_two_routers_is_refused() -> None:
    first, second = Router("first"), Router("second")
    first.command("survey")(nothing)
    second.command("survey")(nothing)
    with pytest.raises(DuplicateRoute, match="survey"):
        Routes([first, second])


def test_a_flow_registered_twice_in_one_router_is_refused() -> None:
    router = Router("one")
    router.flow("proposal")(nothing)
    with pytest.raises(DuplicateRoute, match="proposal"):
        router.flow("proposal")(nothing)


def test_the_same_router_listed_twice_is_refused() -> None:
    router = Router("one")
    with pytest.raises(DuplicateRoute, match="one"):
        Routes([router, router])


def test_the_product_menu_lists_residents_commands_in_order() -> None:
    names = [c.name for c in ROUTES.menu(coordinator=False)]
    assert names[:2] == ["start", "help"]
    assert "admin" not in names and "admin" in [c.name for c in ROUTES.menu(coordinator=True)]
