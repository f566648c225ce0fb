"""Moving StoredFile from courses to files keeps every row and every link to it."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

BEFORE = [
    ("courses", "0002_schedule_help_text"),
    ("messaging", "0001_initial"),
    ("files", None),
]
AFTER = [("files", "0002_storedfile_own_table"), ("courses", "0003_storedfile_moves_to_files")]


class StoredFileMoveTest(TransactionTestCase):
    def migrate(self, targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        # The state of every migration applied now, other apps' included.
        executor = MigrationExecutor(connection)
        return executor._create_project_state(with_applied_migrations=True).apps  # type: ignore[attr-defined]

    def tearDown(self) -> None:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    def test_it_keeps_the_rows_and_the_links_to_them(self) -> None:
        old = self.migrate(BEFORE)
        User = old.get_model("accounts", "User")
        alice = User.objects.create(email="alice@example.com")
        Course = old.get_model("courses", "Course")
        course = Course.objects.create(teacher=alice, title="Pottery", slug="pottery")
        old_file = old.get_model("courses", "StoredFile")
        cover = old_file.objects.create(
            course=course,
            uploaded_by=alice,
            blob="uploads/2026/12/cover",
            original_name="cover.png",
            content_type="image/png",
            size=120,
        )
        sheet = old_file.objects.create(
            course=course,
            uploaded_by=alice,
            blob="uploads/2026/12/sheet",
            original_name="sheet.pdf",
            content_type="application/pdf",
            size=3000,
        )
        Course.objects.filter(pk=course.pk).update(cover=cover)
        item = old.get_model("courses", "CourseItem").objects.create(
            course=course, kind="file", title="Sheet", file=sheet
        )
        conversation = old.get_model("messaging", "Conversation").objects.create(
            kind="channel", course=course
        )
        message = old.get_model("messaging", "Message").objects.create(
            conversation=conversation, author=alice, body="See attached"
        )
        old.get_model("messaging", "Attachment").objects.create(message=message, file=sheet)

        new = self.migrate(AFTER)
        new_file = new.get_model("files", "StoredFile")
        assert new_file._meta.db_table == "files_storedfile"
        assert sorted(new_file.objects.values_list("original_name", flat=True)) == [
            "cover.png",
            "sheet.pdf",
        ]
        assert new.get_model("courses", "Course").objects.get(pk=course.pk).cover.original_name == (
            "cover.png"
        )
        assert new.get_model("courses", "CourseItem").objects.get(pk=item.pk).file_id == sheet.pk
        attachment = new.get_model("messaging", "Attachment").objects.get(message_id=message.pk)
        assert attachment.file.original_name == "sheet.pdf"
        assert new_file.objects.get(pk=sheet.pk).course_id == course.pk
        # A new file is numbered after the moved ones.
        added = new_file.objects.create(
            uploaded_by_id=alice.pk,
            blob="uploads/2026/12/new",
            original_name="new.txt",
            content_type="text/plain",
            size=1,
        )
        assert added.pk > sheet.pk
