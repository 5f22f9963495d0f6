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
    ("retention", "message"),
    [
        ({"pl": "5 lat"}, "retention.months"),
        ({"months": 0, "text": {"pl": "x"}}, "retention.months"),
        ({"months": 600, "text": {"pl": "x"}}, "retention.months"),
        ({"months": 24}, "retention.text"),
    ],
    ids=["text-only", "zero", "too-long", "no-text"],
)
def test_a_wrong_period_is_a_clear_error(tmp_path: Path, retention: object, message: str) -> None:
    with pytest.raises(ContentError, match="centre.yaml: " + message.replace(".", r"\.")):
        load_centre(with_retention(tmp_path, retention))
