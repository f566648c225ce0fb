"""Numbers from requests: only plain ASCII digits within bounds are accepted."""

import pytest
from django.core.exceptions import BadRequest
from django.test import RequestFactory

from core import parsing
from core.converters import IdConverter


@pytest.mark.parametrize("raw", ["0", "7", "0042", str(parsing.MAX_ID)])
def test_it_reads_plain_digits(raw: str) -> None:
    assert parsing.parse_int(raw) == int(raw)


REFUSED = [
    *("", "²", "\u0661\u0662", "\uff11\uff12", "-1", "+1", " 1", "1 ", "1e3", "1_000", "0x1"),
    *(str(parsing.MAX_ID + 1), "9" * 5000, None, True, 1.5),
]


@pytest.mark.parametrize("raw", REFUSED)
def test_it_refuses_anything_else(raw: object) -> None:
    assert parsing.parse_int(raw) is None


def test_it_keeps_to_the_bounds() -> None:
    assert parsing.parse_int("0", minimum=1) is None
    assert parsing.parse_int("51", maximum=50) is None
    assert parsing.parse_int("50", maximum=50) == 50


def test_a_query_parameter_is_none_when_absent_and_a_400_when_malformed() -> None:
    factory = RequestFactory()
    assert parsing.query_int(factory.get("/", {"page": "3"}), "page") == 3
    assert parsing.query_int(factory.get("/"), "page") is None
    assert parsing.query_int(factory.get("/", {"page": ""}), "page") is None
    with pytest.raises(BadRequest):
        parsing.query_int(factory.get("/", {"page": "²"}), "page")


def test_its_id_converter_refuses_ids_no_column_can_hold() -> None:
    converter = IdConverter()
    assert converter.to_python(str(parsing.MAX_ID)) == parsing.MAX_ID
    for raw in (str(parsing.MAX_ID + 1), "99999999999999999999", "9" * 5000):
        with pytest.raises(ValueError, match="larger than any id"):
            converter.to_python(raw)
