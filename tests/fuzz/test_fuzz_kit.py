"""The fuzzer's own parts: reading forms from pages, encoding bad bytes, spotting writes."""

from tests.fuzz.fingerprint import written_tables
from tests.fuzz.pages import read_page
from tests.fuzz.world import encode

PAGE = """
<a href="/teach/contacts/?page=2&amp;tag=x">Next</a>
<a href="/elsewhere/?ignored=1">Away</a>
<form method="post" action="/teach/contacts/import/" enctype="multipart/form-data">
  <input type="hidden" name="csrfmiddlewaretoken" value="t">
  <input name="title" value="Hello">
  <input type="number" name="capacity">
  <select name="timezone"><optgroup label="Europe">
    <option value="Europe/Paris">Paris</option><option value="UTC" selected>UTC</option>
  </optgroup></select>
  <textarea name="body">Some text</textarea>
  <input type="file" name="upload">
  <button name="action" value="publish">Publish</button>
</form>
<form><input type="search" name="q"></form>
"""


def test_it_reads_every_field_of_a_form() -> None:
    page = read_page("/teach/contacts/", PAGE)
    posted, searched = page.forms
    assert (posted.method, posted.action, posted.multipart) == (
        "post",
        "/teach/contacts/import/",
        True,
    )
    kinds = {name: field.kind for name, field in posted.fields.items()}
    assert kinds == {
        "csrfmiddlewaretoken": "hidden",
        "title": "text",
        "capacity": "number",
        "timezone": "select",
        "body": "textarea",
        "upload": "file",
        "action": "button",
    }
    assert posted.fields["timezone"].values == ["Europe/Paris", "UTC"]
    assert posted.fields["body"].values == ["Some text"]
    assert (searched.method, searched.action, list(searched.fields)) == (
        "get",
        "/teach/contacts/",
        ["q"],
    )


def test_it_reads_the_query_parameters_of_links_to_the_same_page() -> None:
    assert read_page("/teach/contacts/", PAGE).query_names == {"page", "tag"}


def test_it_sends_bytes_as_they_are() -> None:
    encoded = encode([("name", b"\xed\xa0\x80"), ("a b", "é\x00")])
    assert encoded == b"name=%ED%A0%80&a%20b=%C3%A9%00"


def test_it_sees_which_tables_a_request_wrote_to() -> None:
    queries = [
        {"sql": 'INSERT INTO "crm_lead" ("email") VALUES (%s)'},
        {"sql": 'UPDATE "courses_course" SET "title" = %s'},
        {"sql": ' DELETE FROM "django_session" WHERE 1'},
        {"sql": 'SELECT * FROM "accounts_user"'},
        {"sql": 'SAVEPOINT "s1"'},
    ]
    assert written_tables(queries) == {"crm_lead", "courses_course", "django_session"}
