"""Calls to LiveKit's server API, against the local stand-in at the HTTP edge."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.test import SimpleTestCase, override_settings
from google.protobuf.json_format import MessageToDict
from livekit import api

from live import client
from live.tests import fake_livekit
from live.tests.kit import KEY, SECRET, event, livekit_on, sign


class ServerApiTestCase(SimpleTestCase):
    def setUp(self) -> None:
        self.livekit = fake_livekit.serve_for(self)

    def test_it_lists_who_is_in_a_room_as_plain_values(self) -> None:
        self.livekit.join("room-a", "u1-abc", name="Bob", joined_at=1_700_000_000)

        [participant] = client.list_participants("room-a")

        assert participant["identity"] == "u1-abc"
        assert participant["sid"].startswith("PA_")
        assert participant["state"] == "ACTIVE"
        assert participant["joined_at"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
        [call] = self.livekit.calls
        assert call["method"] == "ListParticipants"
        assert call["request"] == {"room": "room-a"}
        assert call["grants"]["roomAdmin"] is True
        assert call["grants"]["room"] == "room-a"

    def test_a_room_that_isnt_open_has_nobody_in_it(self) -> None:
        assert client.list_participants("nowhere") == []

    def test_it_mutes_every_published_track_of_one_person(self) -> None:
        self.livekit.join("room-a", "u1-abc", tracks=["audio", "video"])
        self.livekit.join("room-a", "u2-def", tracks=["audio"])

        assert client.mute_tracks("room-a", "u1-abc") == 2

        mutes = self.livekit.calls_to("MutePublishedTrack")
        assert {call["request"]["identity"] for call in mutes} == {"u1-abc"}
        assert all(call["request"]["muted"] for call in mutes)
        assert all(t["muted"] for t in self.livekit.rooms["room-a"]["u1-abc"]["tracks"])
        assert not self.livekit.rooms["room-a"]["u2-def"]["tracks"][0]["muted"]

    def test_it_changes_the_right_to_publish_keeping_subscribe_and_data(self) -> None:
        self.livekit.join("room-a", "u1-abc")

        assert client.set_can_publish("room-a", "u1-abc", True)

        permission = self.livekit.rooms["room-a"]["u1-abc"]["permission"]
        assert permission == {"can_subscribe": True, "can_publish": True, "can_publish_data": True}
        assert not client.set_can_publish("room-a", "u9-zzz", True)

    def test_it_removes_people_and_ends_rooms(self) -> None:
        self.livekit.join("room-a", "u1-abc")

        assert client.remove_participant("room-a", "u1-abc")
        assert not client.remove_participant("room-a", "u1-abc")
        assert client.delete_room("room-a")
        assert not client.delete_room("room-a")
        assert self.livekit.calls_to("DeleteRoom")[0]["grants"]["roomCreate"] is True

    @override_settings(
        LIVE_RECORDINGS_BUCKET="recordings",
        LIVE_RECORDINGS_ACCESS_KEY="AKIA",
        LIVE_RECORDINGS_SECRET_KEY="secret",
        LIVE_RECORDINGS_REGION="eu-west-1",
        LIVE_RECORDINGS_ENDPOINT_URL="",
    )
    def test_it_records_a_room_into_the_bucket(self) -> None:
        self.livekit.open_room("room-a")
        key = client.recording_key("room-a")

        egress_id = client.start_room_composite_egress("room-a", key)

        [call] = self.livekit.calls_to("StartRoomCompositeEgress")
        assert call["grants"]["roomRecord"] is True
        [output] = call["request"]["file_outputs"]
        assert output["filepath"] == key
        assert key.startswith("recordings/room-a/")
        assert key.endswith(".mp4")
        assert output["file_type"] == "MP4"
        assert output["s3"]["bucket"] == "recordings"
        assert output["s3"]["region"] == "eu-west-1"
        assert output["s3"]["access_key"] == "AKIA"
        assert client.stop_egress(egress_id) == "EGRESS_ENDING"

    def test_a_server_error_is_unavailable(self) -> None:
        self.livekit.failing = 500

        with pytest.raises(client.LiveKitUnavailableError, match="refused"):
            client.list_participants("room-a")

    def test_a_closed_port_is_unavailable(self) -> None:
        self.livekit.down()

        with pytest.raises(client.LiveKitUnavailableError, match="can't be reached"):
            client.remove_participant("room-a", "u1-abc")

    @override_settings(LIVEKIT_URL="")
    def test_without_settings_nothing_is_called(self) -> None:
        with pytest.raises(client.LiveKitUnavailableError, match="aren't set up"):
            client.list_participants("room-a")


def test_the_api_address_is_http_for_a_websocket_url() -> None:
    with override_settings(LIVEKIT_URL="wss://live.example.org/"):
        assert client.api_url() == "https://live.example.org"
    with override_settings(LIVEKIT_URL="ws://127.0.0.1:7880"):
        assert client.api_url() == "http://127.0.0.1:7880"


def test_serve_points_the_settings_at_the_stand_in() -> None:
    with fake_livekit.serve() as livekit:
        livekit.join("r", "u1-x")
        assert [p["identity"] for p in client.list_participants("r")] == ["u1-x"]


@livekit_on
class WebhookVerificationTestCase(SimpleTestCase):
    """`receive_webhook` accepts a delivery exactly when the SDK's own receiver does."""

    def deliveries(self) -> dict[str, tuple[str, str]]:
        body = json.dumps(event("participant_joined", "EV_1", room="r", at=1_796_000_000))
        room_started = json.dumps(event("room_started", "EV_2", room="r", at=1_796_000_000))
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        expired = api.AccessToken(KEY, SECRET).with_sha256(digest).with_ttl(timedelta(minutes=-5))
        no_exp = jwt.encode({"iss": KEY, "sha256": digest}, SECRET, algorithm="HS256")
        return {
            "signed": (body, sign(body)),
            "another event": (room_started, sign(room_started)),
            "wrong secret": (body, sign(body, secret="another-secret-of-well-over-32-bytes!!")),
            "wrong key": (body, sign(body, key="APIsomeoneelse")),
            "tampered body": (body.replace("EV_1", "EV_9"), sign(body)),
            "expired token": (body, expired.to_jwt()),
            "token without expiry": (body, no_exp),
            "token without a body hash": (body, api.AccessToken(KEY, SECRET).to_jwt()),
            "hash of garbage": (body, api.AccessToken(KEY, SECRET).with_sha256("%%%").to_jwt()),
            "no header": (body, ""),
            "garbled header": (body, "Bearer x.y.z"),
            "signed, not JSON": ("not json", sign("not json")),
        }

    def test_it_agrees_with_the_sdks_receiver_on_every_delivery(self) -> None:
        receiver = api.WebhookReceiver(api.TokenVerifier(KEY, SECRET))
        for name, (body, header) in self.deliveries().items():
            with self.subTest(name):
                try:
                    expected = MessageToDict(receiver.receive(body, header))
                except Exception:
                    expected = None
                try:
                    got = client.receive_webhook(body, header)
                except client.BadWebhookError:
                    got = None
                if expected is None:
                    assert got is None
                else:
                    assert got is not None
                    assert {key: got.get(key) for key in expected} == expected

    def test_the_signed_delivery_is_the_one_that_passes(self) -> None:
        accepted = [
            name
            for name, (body, header) in self.deliveries().items()
            if self._accepts(body, header)
        ]

        assert accepted == ["signed", "another event"]

    def _accepts(self, body: str, header: str) -> bool:
        try:
            client.receive_webhook(body, header)
        except client.BadWebhookError:
            return False
        return True
