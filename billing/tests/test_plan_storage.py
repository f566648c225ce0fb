"""A plan's storage limit is what uploads are held to (`files.quotas`, filled in by billing)."""

import pytest
from django.core.exceptions import ValidationError

from billing.models import Plan
from billing.tests.plan_kit import PlanTestCase
from courses.tests.factories import CourseFactory
from files import services as files
from files.models import StoredFile
from files.tests import files_kit as kit

MB = 1024 * 1024


class PlanStorageTests(kit.TemporaryStorageMixin, PlanTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)
        Plan.objects.filter(is_free=True).update(storage_mb=1)

    def store(self, name: str) -> StoredFile:
        return files.store_upload(
            uploaded_by=self.alice, course=self.course, upload=kit.pdf(name), purpose="material"
        )

    def fill_to_the_megabyte(self) -> None:
        first = self.store("first.pdf")
        StoredFile.objects.filter(pk=first.pk).update(size=MB - len(kit.PDF_BYTES) + 1)

    def test_the_free_plans_storage_holds_uploads(self) -> None:
        self.fill_to_the_megabyte()
        with pytest.raises(ValidationError) as caught:
            self.store("second.pdf")
        assert "over your 1.0\xa0MB of storage" in caught.value.messages[0]

    def test_a_bigger_plan_makes_room_at_once(self) -> None:
        self.fill_to_the_megabyte()
        self.subscribe(self.alice, self.price("pro"))
        self.store("second.pdf")
        assert StoredFile.objects.filter(uploaded_by=self.alice).count() == 2

    def test_a_plan_without_a_storage_limit_holds_nothing(self) -> None:
        Plan.objects.filter(is_free=True).update(storage_mb=None)
        self.fill_to_the_megabyte()
        self.store("second.pdf")
        assert StoredFile.objects.filter(uploaded_by=self.alice).count() == 2
