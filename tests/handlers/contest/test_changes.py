"""What changed between two submissions: fields, budget lines and files, compared alone."""

from __future__ import annotations

from decimal import Decimal

from handlers.contest.budget import Line
from handlers.contest.changes import Version, differences
from tests.handlers.contest_fixture import sample_contest

ANSWERS = {"tytul": "Potańcówka", "opis": "Tańce.", "liczba": 120}


def line(item: str, amount: str) -> dict[str, str]:
    return {"item": item, "amount": amount}


def version(
    answers: dict[str, object] | None = None,
    budget: list[dict[str, str]] | None = None,
    files: list[str] | None = None,
) -> Version:
    return Version(dict(answers or ANSWERS), budget or [], files or [])


def test_the_same_version_has_no_differences() -> None:
    same = version(budget=[line("Scena", "2000.00")], files=["plakat.pdf"])
    assert not differences(sample_contest(), same, same)


def test_fields_changed_added_and_dropped_in_the_forms_order() -> None:
    before = version({**ANSWERS, "telefon": "+48600100200"})
    after = version({"liczba": 150, "tytul": "Potańcówka", "opis": "Tańce ludowe."})
    found = differences(sample_contest(), before, after)
    assert found.fields == [
        ("telefon", "+48600100200", None),
        ("opis", "Tańce.", "Tańce ludowe."),
        ("liczba", 120, 150),
    ]


def test_budget_lines_are_matched_by_name_then_by_amount() -> None:
    before = version(
        budget=[
            line("Scena", "2000.00"),
            line("Poczęstunek", "4500.00"),
            line("Muzyk", "1500.00"),
            line("Plakaty", "300.00"),
        ]
    )
    after = version(
        budget=[
            line("Scena", "2000.00"),
            line("Poczęstunek", "3000.00"),  # a new amount
            line("Kapela", "1500.00"),  # a new name
            line("Instruktor", "800.00"),  # new
        ]
    )
    found = differences(sample_contest(), before, after)
    assert found.lines_changed == [
        (Line("Poczęstunek", Decimal("4500.00")), Line("Poczęstunek", Decimal("3000.00"))),
        (Line("Muzyk", Decimal("1500.00")), Line("Kapela", Decimal("1500.00"))),
    ]
    assert found.lines_removed == [Line("Plakaty", Decimal("300.00"))]
    assert found.lines_added == [Line("Instruktor", Decimal("800.00"))]
    assert not found.fields and not found.files_added and not found.files_removed


def test_a_line_written_twice_counts_each_time() -> None:
    before = version(budget=[line("Farby", "100.00")])
    after = version(budget=[line("Farby", "100.00"), line("Farby", "100.00")])
    found = differences(sample_contest(), before, after)
    assert found.lines_added == [Line("Farby", Decimal("100.00"))] and not found.lines_changed


def test_files_added_and_removed_by_name() -> None:
    before = version(files=["plakat.pdf", "mapa.pdf"])
    after = version(files=["mapa.pdf", "program.pdf"])
    found = differences(sample_contest(), before, after)
    assert (found.files_added, found.files_removed) == (["program.pdf"], ["plakat.pdf"])
