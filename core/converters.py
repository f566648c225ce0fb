"""Path converters for every app's URLs."""

from core.parsing import MAX_ID


class IdConverter:
    """An id in the address: ASCII digits no larger than a 64-bit column holds.

    Django's `int` converter accepts any number of digits. Most lookups refuse
    an id past the largest bigint on their own, but a foreign-key filter sends
    it to the database, where SQLite fails with an OverflowError (a 500). A
    value this converter refuses makes the URL not match: a 404.
    """

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= len(str(MAX_ID)) else MAX_ID + 1
        if number > MAX_ID:
            raise ValueError(f"{value!r} is larger than any id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)
