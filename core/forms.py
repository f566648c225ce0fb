"""Form fields shared by every app."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput


class JSONField(forms.JSONField):
    """Django's JSON field, with every unreadable input refused as invalid.

    `json.loads` raises a plain ValueError, not a JSONDecodeError, for a number
    longer than Python reads (4,300 digits); Django's field lets that through
    as a 500.
    """

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValueError as error:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from error

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except ValueError:
            return InvalidJSONInput(data)
