"""content/centre.yaml: the retention period is machine-readable and checked on load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handlers.core.centre import ContentError, load_centre
from tests.conftest import CONTENT


def with_retention(tmp_path: Path, retention: object) -> Path:
    raw = yaml.safe_load((CONTENT / "centre.yaml").read_text(encoding="utf-8"))
    raw["retention"] = retention
    (tmp_path / "centre.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return tmp_path


def test_the_shipped_centre_states_a_period_in_months() -> None:
    retention = load_centre(CONTENT).retention
    assert retention.months == 60
    assert "5 lat" in retention.text.get("pl") and "5 years" in retention.text.get("en")


@pytest.mark.parametrize(
    ("retention", "where", "key"),
    [
        ({"pl": "5 lat"}, "retention", "content.error.missing_field"),
        ({"months": 0, "text": {"pl": "x"}}, "retention.months", "content.error.greater_than"),
        ({"months": 600, "text": {"pl": "x"}}, "retention.months", "content.error.at_most"),
        ({"months": 24}, "retention", "content.error.missing_field"),
    ],
    ids=["text-only", "zero", "too-long", "no-text"],
)
def test_a_wrong_period_is_a_clear_error(
    tmp_path: Path, retention: object, where: str, key: str
) -> None:
    with pytest.raises(ContentError) as caught:
        load_centre(with_retention(tmp_path, retention))
    assert caught.value.path.name == "centre.yaml"
    assert (caught.value.problem.where, caught.value.problem.message.key) == (where, key)
