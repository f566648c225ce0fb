"""A person's live participation in "Download my data", and gone with their account."""

import io
import json
import zipfile

from live.models import LiveKitEvent, ParticipantInterval, Participation
from live.tests.kit import livekit_on
from live.tests.test_attendance import MINUTE, LiveClassTestCase, at
from privacy import deletion, export


@livekit_on
class PrivacyTests(LiveClassTestCase):
    students = 1

    def setUp(self) -> None:
        super().setUp()
        [self.erin] = self.people
        self.deliver(
            [
                self.ev("participant_joined", 0, self.erin, "PA_e"),
                self.ev("participant_left", 60 * MINUTE, self.erin, "PA_e"),
                self.ev("participant_joined", 0, self.alice, "PA_t"),
                self.ev("room_finished", 90 * MINUTE),
            ]
        )

    def archive(self, user) -> dict[str, bytes]:
        target = io.BytesIO()
        export.write_archive(target, user)
        with zipfile.ZipFile(target) as zf:
            return {name: zf.read(name) for name in zf.namelist()}

    def test_the_export_holds_the_persons_intervals_and_minutes(self) -> None:
        files = self.archive(self.erin)

        minutes = json.loads(files["live-class-minutes.json"])["records"]["live.Participation"]
        assert minutes == [
            {
                "room_id": self.room.pk,
                "first_joined_at": at(0).isoformat().replace("+00:00", "Z"),
                "last_left_at": at(60 * MINUTE).isoformat().replace("+00:00", "Z"),
                "seconds": 3600,
            }
        ]
        intervals = json.loads(files["live-class-participation.json"])["records"]
        assert [row["closed_by"] for row in intervals["live.ParticipantInterval"]] == ["event"]
        assert "live-class-minutes.json" in files["README.json"].decode()

    def test_erasing_the_account_removes_them_for_good(self) -> None:
        identity = self.identity(self.erin)
        for entry in deletion.erasure_order():
            entry.eraser(self.erin)

        assert not ParticipantInterval.objects.filter(identity=identity).exists()
        assert not Participation.objects.filter(identity=identity).exists()
        assert not LiveKitEvent.objects.filter(identity=identity).exists()
        # Rebuilding the room later (a redelivered finish) brings nothing of them back.
        self.deliver([self.ev("room_finished", 91 * MINUTE)])
        assert not Participation.objects.filter(identity=identity).exists()
        assert Participation.objects.filter(user=self.alice).exists()
