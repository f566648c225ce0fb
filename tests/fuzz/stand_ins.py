"""Local stand-ins for the outside services, so live and AI pages run their real code.

Without them those pages answer "not set up" (503) before reading any input.
For the fuzz module the settings point at the tests' own fakes: LiveKit's
server API (live.tests.fake_livekit), an OpenAI-compatible endpoint
(ai.tests.fake_openai), and the recordings' bucket (moto's S3). Before each
case the fakes go back to the state the world starts from: every open live
room with its enrolled students in it, publishing, and nothing recorded.
"""

import copy
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from django.test import override_settings
from moto import mock_aws

from ai.tests.fake_openai import FakeOpenAI
from courses.models import Enrollment
from live import services as live_services
from live.models import LiveRoom
from live.tests.fake_livekit import FakeLiveKit
from live.tests.kit import KEY, SECRET

BUCKET = "lectern-fuzz-recordings"
REGION = "eu-west-1"
# Calls the fakes answered in this process, by method: proof the pages reached them.
REACHED: Counter[str] = Counter()


class StandIns:
    def __init__(self, livekit: FakeLiveKit, ai: FakeOpenAI) -> None:
        self.livekit = livekit
        self.ai = ai
        self._rooms: dict[str, dict[str, dict[str, Any]]] = {}

    def fill_rooms(self) -> None:
        """Open every live room not ended, with each active student of its course in it."""
        rooms = LiveRoom.objects.filter(ended_at__isnull=True).select_related("item__course")
        for room in rooms:
            self.livekit.open_room(room.name)
            students = Enrollment.objects.filter(
                course=room.item.course, status=Enrollment.Status.ACTIVE
            ).select_related("student")
            for enrollment in students:
                self.livekit.join(
                    room.name,
                    live_services.identity_for(enrollment.student),
                    tracks=["audio", "video"],
                )
        self._rooms = copy.deepcopy(self.livekit.rooms)

    def reset(self) -> None:
        """Put the fakes back as the world starts: each case sees the same services."""
        self.tally()
        with self.livekit.lock:
            self.livekit.rooms = copy.deepcopy(self._rooms)
            self.livekit.egresses.clear()
            self.livekit.failing = None
        self.ai.headers.clear()
        self.ai.fail_with = ""

    def tally(self) -> None:
        """Count the calls the fakes answered since the last tally into REACHED."""
        with self.livekit.lock:
            REACHED.update(f"livekit.{call['method']}" for call in self.livekit.calls)
            self.livekit.calls.clear()
        REACHED.update("ai.chat" for _ in self.ai.requests)
        self.ai.requests.clear()


@contextmanager
def stand_ins() -> Iterator[StandIns]:
    """Run the fakes and point the LIVEKIT_*, AI_* and LIVE_RECORDINGS_* settings at them."""
    ai = FakeOpenAI().start()
    try:
        with (
            FakeLiveKit(key=KEY, secret=SECRET) as livekit,
            mock_aws(),
            override_settings(
                LIVEKIT_URL=livekit.url,
                LIVEKIT_API_KEY=KEY,
                LIVEKIT_API_SECRET=SECRET,
                AI_BASE_URL=ai.base_url,
                AI_API_KEY="sk-fuzz",
                AI_MODEL="small",
                AI_TIMEOUT_SECONDS=5,
                LIVE_RECORDINGS_BUCKET=BUCKET,
                LIVE_RECORDINGS_ACCESS_KEY="testing",
                LIVE_RECORDINGS_SECRET_KEY="testing",
                LIVE_RECORDINGS_REGION=REGION,
                LIVE_RECORDINGS_ENDPOINT_URL=None,
            ),
        ):
            boto3.client("s3", region_name=REGION).create_bucket(
                Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
            yield StandIns(livekit, ai)
    finally:
        ai.stop()
