"""`insert_unless_present`: one INSERT that never raises on a row that exists already."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.test import TestCase

from core.db import insert_unless_present


class InsertUnlessPresentTests(TestCase):
    def test_a_new_row_is_inserted(self) -> None:
        assert insert_unless_present(Group, "name", {"name": "Teachers"}) is True
        assert Group.objects.filter(name="Teachers").exists()

    def test_a_row_that_exists_is_left_as_it_is(self) -> None:
        original = Group.objects.create(name="Teachers")
        assert insert_unless_present(Group, "name", {"name": "Teachers"}) is False
        assert list(Group.objects.values_list("pk", "name")) == [(original.pk, "Teachers")]

    def test_a_duplicate_inside_a_transaction_leaves_it_usable(self) -> None:
        Group.objects.create(name="Teachers")
        with transaction.atomic():
            assert insert_unless_present(Group, "name", {"name": "Teachers"}) is False
            Group.objects.create(name="Students")  # no error was raised to roll back to
        assert set(Group.objects.values_list("name", flat=True)) == {"Teachers", "Students"}
