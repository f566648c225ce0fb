"""The proof: a person with data in every category exports it all, then is erased for good.

Every registered model gets rows (`privacy.tests.factories`), the export must
hold at least one record of each, and after the deletion's cooling-off and the
retention sweep no table may hold the person's address or name or point at their
id, no stored file of theirs may remain, and only the declared legal holds stay,
unlinked from them.
"""

import io
import json
import zipfile
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.tests.fake_stripe import serve_for
from files.models import StoredFile
from files.tests.files_kit import TemporaryStorageMixin
from privacy import export
from privacy.models import DeletionRequest, ExportRequest, PolicyAcceptance
from privacy.registry import registry
from privacy.tasks import sweep_retention_task
from privacy.tests.factories import FACTORIES, World, give_everything
from tests.base import PASSWORD, LecternTestCase, TeacherFactory

EMAIL = "zebedee.quartermaine@example.org"
FIRST, LAST = "Zebedee", "Quartermaine"


def test_every_registered_model_has_a_factory() -> None:
    missing = set(registry.entries) - set(FACTORIES)
    assert not missing, f"add a factory to privacy/tests/factories.py for {sorted(missing)}"
    assert not set(FACTORIES) - set(registry.entries)


def _text_columns() -> list[tuple[str, str]]:
    """Every text, char and JSON column of every table, as (table, column)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                try:
                    kind = connection.introspection.get_field_type(column.type_code, column)
                except KeyError:
                    continue  # e.g. a search document generated from the row's own text columns
                if kind in ("CharField", "TextField", "JSONField", "EmailField", "SlugField"):
                    found.append((table, column.name))
    return found


def _user_references() -> list[tuple[str, str]]:
    """Every column of every table that is a foreign key to the user table."""
    user_table = get_user_model()._meta.db_table
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            relations = connection.introspection.get_relations(cursor, table)
            for column, relation in relations.items():
                if relation[1] == user_table:
                    found.append((table, column))
    return found


def _rows_mentioning(needle: str) -> list[str]:
    hits = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            q = connection.ops.quote_name
            cursor.execute(
                f"SELECT COUNT(*) FROM {q(table)} WHERE CAST({q(column)} AS TEXT) LIKE %s",
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def _rows_referencing(pk: int) -> list[str]:
    hits = []
    with connection.cursor() as cursor:
        for table, column in _user_references():
            q = connection.ops.quote_name
            cursor.execute(
                f"SELECT COUNT(*) FROM {q(table)} WHERE {q(column)} = %s",
                [pk],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


class EndToEndTests(TemporaryStorageMixin, LecternTestCase):
    def test_it_exports_everything_then_erases_everything(self) -> None:
        # A teacher's deletion asks Stripe whether their account still holds money.
        serve_for(self)
        person = TeacherFactory.create(
            email=EMAIL, first_name=FIRST, last_name=LAST, is_student=True
        )
        world = World(teacher=self.carol, student=self.bob, staff=self.staff)
        with self.captureOnCommitCallbacks(execute=True):
            give_everything(person, world)
        for label, entry in registry.entries.items():
            assert entry.rows_for(person).exists(), f"the factory made no {label} row"
        blobs = list(
            StoredFile.objects.filter(uploaded_by=person).values_list("blob", flat=True)
        ) + list(StoredFile.objects.filter(course__teacher=person).values_list("blob", flat=True))
        assert len(blobs) >= 5
        acceptances = set(PolicyAcceptance.objects.filter(user=person).values_list("pk", flat=True))
        assert all(default_storage.exists(name) for name in blobs)

        # Download my data: every entry has records in its category's file.
        with self.captureOnCommitCallbacks(execute=True):
            request = export.request_export(person)
        request.refresh_from_db()
        assert request.state == ExportRequest.State.READY, request.error
        with request.file.open("rb") as f, zipfile.ZipFile(io.BytesIO(f.read())) as archive:
            names = set(archive.namelist())
            assert {"README.json", "index.html"} <= names
            for label, entry in registry.entries.items():
                name = export.category_filename(entry.category)
                assert name in names, f"{entry.category} is missing from the export"
                records = json.loads(archive.read(name))["records"]
                assert records.get(label), f"{label} has no record in {name}"
            assert any(n.startswith("files/") and n.endswith("sketches.pdf") for n in names)
        blobs.append(request.file.name)

        # Delete my account, through the page, as the person.
        client = world.objects["client"]
        with self.captureOnCommitCallbacks(execute=True):
            response = client.post(
                reverse("privacy:delete_account"), {"password": PASSWORD, "confirm": "on"}
            )
        assert response.status_code == 302
        mail.outbox.clear()

        # The cooling-off passes; the nightly sweep erases the account.
        deletion = DeletionRequest.objects.get(user=person, state="pending")
        DeletionRequest.objects.filter(pk=deletion.pk).update(
            erase_after=timezone.now() - timedelta(minutes=1)
        )
        with self.captureOnCommitCallbacks(execute=True):
            sweep_retention_task.delay()
        deletion.refresh_from_db()
        assert deletion.state == DeletionRequest.State.COMPLETED, deletion.error

        assert not User.objects.filter(pk=person.pk).exists()
        assert _rows_mentioning(EMAIL) == []
        assert _rows_mentioning(f"{FIRST} {LAST}") == []
        assert _rows_mentioning(LAST) == []
        assert len(_user_references()) >= 20
        assert _rows_referencing(person.pk) == []
        assert [name for name in blobs if default_storage.exists(name)] == []

        # Only the declared legal hold remains, unlinked from the person.
        kept = PolicyAcceptance.objects.filter(user=None, user_deleted_at__isnull=False)
        assert set(kept.values_list("pk", flat=True)) == acceptances

        receipts = [m for m in mail.outbox if m.to == [EMAIL]]
        assert len(receipts) == 1
        assert "has been deleted" in receipts[0].subject
        # Others were told the course closed, without the teacher's name.
        assert any(m.to == ["bob@example.com"] for m in mail.outbox)
