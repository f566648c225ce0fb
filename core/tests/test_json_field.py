"""JSON typed into a form is refused when unreadable: a validation error, never a 500."""

import pytest
from django.core.exceptions import ValidationError

from core.forms import JSONField

TOO_LONG_A_NUMBER = "9" * 5000  # Python refuses to read more than 4,300 digits


def test_it_reads_json() -> None:
    assert JSONField().clean('{"on": [1, 2]}') == {"on": [1, 2]}


@pytest.mark.parametrize("raw", [TOO_LONG_A_NUMBER, f"[{TOO_LONG_A_NUMBER}]", "{", "NaN-ish"])
def test_it_refuses_json_it_cannot_read(raw: str) -> None:
    field = JSONField()
    with pytest.raises(ValidationError, match="Enter a valid JSON"):
        field.clean(raw)
    assert field.bound_data(raw, None) == raw
