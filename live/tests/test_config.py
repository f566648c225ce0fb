import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from courses.tests.factories import CourseItemFactory
from live import client, services
from live.models import LiveKitEvent
from live.tests.kit import KEY, SECRET, URL, event, livekit_on, post_event
from privacy.registry import registry
from tests.base import LecternTestCase


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh process with `env` on top of a minimal environment."""
    base = {"PATH": os.environ.get("PATH", ""), "DEBUG": "1", "DJANGO_SETTINGS_MODULE": ""}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=Path(settings.BASE_DIR),
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_it_is_off_without_the_three_settings() -> None:
    with override_settings(LIVEKIT_URL="", LIVEKIT_API_KEY="", LIVEKIT_API_SECRET=""):
        assert not client.configured()
    with override_settings(LIVEKIT_URL=URL, LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=""):
        assert not client.configured()
    with override_settings(LIVEKIT_URL=URL, LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=SECRET):
        assert client.configured()


def test_it_refuses_to_start_with_a_short_secret() -> None:
    started = _start(LIVEKIT_API_SECRET="x" * 31)

    assert started.returncode != 0
    assert "LIVEKIT_API_SECRET must be at least 32 bytes" in started.stderr


def test_it_starts_with_a_long_enough_secret() -> None:
    assert _start(LIVEKIT_API_SECRET="x" * 32).returncode == 0


@livekit_on
class EventPayloadRetentionTestCase(LecternTestCase):
    def test_it_empties_payloads_and_identities_after_30_days(self) -> None:
        room = services.ensure_room(item=CourseItemFactory.create(session=True))
        identity = services.identity_for(self.bob)
        for event_id in ("EV_old", "EV_new"):
            payload = event(
                "participant_joined",
                event_id,
                room=room.name,
                at=1_796_000_000,
                identity=identity,
                sid="PA_1",
            )
            assert post_event(self.client, payload).status_code == 200
        LiveKitEvent.objects.filter(event_id="EV_old").update(
            received_at=timezone.now() - timedelta(days=31)
        )
        retention = registry.rules["LiveKit webhook events"].retention

        assert retention.expired is not None
        assert retention.purge is not None
        assert retention.purge(retention.expired()) == 1

        swept = LiveKitEvent.objects.get(event_id="EV_old")
        kept = LiveKitEvent.objects.get(event_id="EV_new")
        assert (swept.payload, swept.identity, swept.participant_sid) == ({}, "", "")
        assert kept.identity == identity
        assert kept.payload["id"] == "EV_new"
        assert retention.expired().count() == 0
