"""The survey in "Download my data" and in account deletion."""

import io
import json
import zipfile
from datetime import timedelta

from django.utils import timezone

from files.tests.files_kit import TemporaryStorageMixin
from onboarding import services
from onboarding.models import SurveyAnswer, SurveyResponse
from privacy import deletion, export
from privacy.models import DeletionRequest, ExportRequest
from privacy.tasks import sweep_retention_task
from tests.base import LecternTestCase


class SurveyPrivacyTests(TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        services.save_answers(
            user=self.bob,
            role="student",
            answers={"goal": ["exam"], "platforms": ["video_calls", "classroom"]},
        )
        services.save_answers(user=self.dave, role="student", answers={"goal": ["invited"]})

    def test_it_exports_the_questions_and_answers_in_words(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            made = export.request_export(self.bob)
        made.refresh_from_db()
        assert made.state == ExportRequest.State.READY, made.error

        with made.file.open("rb") as f, zipfile.ZipFile(io.BytesIO(f.read())) as archive:
            records = json.loads(archive.read(export.category_filename("Onboarding survey")))[
                "records"
            ]

        answers = records["onboarding.SurveyAnswer"]
        assert {
            "question": "What brings you to Lectern?",
            "answer": "Preparing for an exam or a job",
            "question_key": "goal",
            "answer_key": "exam",
        } in answers
        assert len(answers) == 3
        assert records["onboarding.SurveyResponse"][0]["role"] == "student"
        assert "invited" not in json.dumps(records)  # dave's answer

    def test_it_erases_the_survey_with_the_account(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            made = deletion.request_deletion(user=self.bob)
        DeletionRequest.objects.filter(pk=made.pk).update(
            erase_after=timezone.now() - timedelta(minutes=1)
        )

        with self.captureOnCommitCallbacks(execute=True):
            sweep_retention_task.delay()

        made.refresh_from_db()
        assert made.state == DeletionRequest.State.COMPLETED, made.error
        assert not SurveyResponse.objects.filter(user_id=self.bob.pk).exists()
        assert not SurveyAnswer.objects.filter(response__user_id=self.bob.pk).exists()
        assert SurveyAnswer.objects.filter(response__user=self.dave).count() == 1
