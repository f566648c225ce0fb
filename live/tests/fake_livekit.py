"""A local stand-in for LiveKit's server API (Twirp) at the HTTP edge.

The real SDK talks to it (LIVEKIT_URL points here), so requests are built,
signed and encoded exactly as for LiveKit: protobuf bodies posted to
`/twirp/livekit.RoomService/<Method>` and `/twirp/livekit.Egress/<Method>`,
a bearer JWT carrying the call's grants, errors as Twirp JSON. It keeps a
little state — the open rooms and who is in them with which tracks, and the
egresses started — and answers from it.

    with fake_livekit.serve() as livekit:              # LIVEKIT_* settings point at it
        livekit.join("room-name", "u1-abc", tracks=["audio", "video"])
        client.mute_tracks("room-name", "u1-abc")
        assert livekit.calls[-1]["method"] == "MutePublishedTrack"
        assert livekit.calls[-1]["grants"]["roomAdmin"]

Every call is recorded in `calls`: service, method, the decoded request (a
dict with protobuf's field names), and the JWT's `video` grants as LiveKit
reads them. `failing = 500` answers every call with that error until reset;
`down()` closes the port, as a server that is gone.
"""

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from django.test import SimpleTestCase, override_settings
from google.protobuf.json_format import MessageToDict, Parse
from google.protobuf.message import Message
from livekit.protocol import egress as egress_proto
from livekit.protocol import models as models_proto
from livekit.protocol import room as room_proto

from live.tests.kit import KEY, SECRET

_ids = itertools.count(1)

# (service, method) -> the request's protobuf class, and the fake's method answering it.
ROUTES: dict[tuple[str, str], tuple[type[Message], str]] = {
    ("RoomService", "ListRooms"): (room_proto.ListRoomsRequest, "list_rooms"),
    ("RoomService", "DeleteRoom"): (room_proto.DeleteRoomRequest, "delete_room"),
    ("RoomService", "ListParticipants"): (room_proto.ListParticipantsRequest, "list_participants"),
    ("RoomService", "GetParticipant"): (room_proto.RoomParticipantIdentity, "get_participant"),
    ("RoomService", "RemoveParticipant"): (
        room_proto.RoomParticipantIdentity,
        "remove_participant",
    ),
    ("RoomService", "MutePublishedTrack"): (room_proto.MuteRoomTrackRequest, "mute_track"),
    ("RoomService", "UpdateParticipant"): (
        room_proto.UpdateParticipantRequest,
        "update_participant",
    ),
    ("Egress", "StartRoomCompositeEgress"): (
        egress_proto.RoomCompositeEgressRequest,
        "start_egress",
    ),
    ("Egress", "StopEgress"): (egress_proto.StopEgressRequest, "stop_egress"),
    ("Egress", "ListEgress"): (egress_proto.ListEgressRequest, "list_egress"),
}


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


class TwirpError(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


class FakeLiveKit:
    def __init__(self, *, key: str = KEY, secret: str = SECRET) -> None:
        self.key, self.secret = key, secret
        # room name -> identity -> participant (a ParticipantInfo as a dict of field names).
        self.rooms: dict[str, dict[str, dict[str, Any]]] = {}
        # egress id -> EgressInfo as a dict of field names.
        self.egresses: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        # An HTTP status every call is answered with (500, 503…) while set.
        self.failing: int | None = None
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.http_url = f"http://127.0.0.1:{self.port}"
        # What LIVEKIT_URL says: the address browsers open a WebSocket to.
        self.url = f"ws://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._up = False

    def __enter__(self) -> "FakeLiveKit":
        self.thread.start()
        self._up = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def down(self) -> None:
        """Stop answering and close the port: calls fail as with a server that is gone."""
        if self._up:
            self.server.shutdown()
            self.server.server_close()
            self._up = False

    # --- State a test sets up ------------------------------------------------------------

    def open_room(self, room: str) -> dict[str, dict[str, Any]]:
        return self.rooms.setdefault(room, {})

    def join(
        self,
        room: str,
        identity: str,
        *,
        name: str = "Someone",
        tracks: tuple[str, ...] | list[str] = (),
        can_publish: bool = False,
        joined_at: int | None = None,
        state: str = "ACTIVE",
    ) -> dict[str, Any]:
        """Put `identity` in `room` (opening it), publishing `tracks` ("audio", "video")."""
        at = joined_at if joined_at is not None else int(time.time())
        participant = {
            "sid": new_id("PA"),
            "identity": identity,
            "name": name,
            "state": state,
            "joined_at": str(at),
            "joined_at_ms": str(at * 1000),
            "permission": {
                "can_subscribe": True,
                "can_publish": can_publish,
                "can_publish_data": True,
            },
            "tracks": [
                {"sid": new_id("TR"), "type": kind.upper(), "muted": False} for kind in tracks
            ],
        }
        self.open_room(room)[identity] = participant
        return participant

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["method"] == method]

    def finish_egress(self, egress_id: str, *, size: int = 1000, duration_ns: int = 0) -> None:
        info = self.egresses[egress_id]
        info["status"] = "EGRESS_COMPLETE"
        info["ended_at"] = str(time.time_ns())
        info["file_results"][0].update(size=str(size), duration=str(duration_ns))

    # --- The HTTP side -------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._serve(self)

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0]
        as_json = content_type == "application/json"
        try:
            service, method, request = self._decode(handler.path, body, as_json)
            grants = self._grants(handler.headers.get("Authorization") or "")
            with self.lock:
                self.calls.append(
                    {
                        "service": service,
                        "method": method,
                        "request": MessageToDict(request, preserving_proto_field_name=True),
                        "grants": grants,
                    }
                )
                if self.failing:
                    raise TwirpError(self.failing, "internal", "the server is failing")
                answer = self._route(service, method, request)
        except TwirpError as error:
            return self._send(
                handler,
                error.status,
                json.dumps({"code": error.code, "msg": error.msg}).encode(),
                "application/json",
            )
        if as_json:
            data = json.dumps(MessageToDict(answer)).encode()
            return self._send(handler, 200, data, "application/json")
        return self._send(handler, 200, answer.SerializeToString(), "application/protobuf")

    def _send(self, handler: BaseHTTPRequestHandler, status: int, data: bytes, kind: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _decode(self, path: str, body: bytes, as_json: bool) -> tuple[str, str, Message]:
        prefix = "/twirp/livekit."
        service, _, method = path.removeprefix(prefix).partition("/")
        route = ROUTES.get((service, method)) if path.startswith(prefix) else None
        if route is None:
            raise TwirpError(404, "bad_route", f"no handler for {path}")
        kind = route[0]
        try:
            if as_json:
                return service, method, Parse(body.decode() or "{}", kind())
            return service, method, kind.FromString(body)
        except Exception as error:
            raise TwirpError(400, "malformed", str(error)) from error

    def _grants(self, authorization: str) -> dict[str, Any]:
        token = authorization.removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, self.secret, issuer=self.key, algorithms=["HS256"])
        except jwt.PyJWTError as error:
            raise TwirpError(401, "unauthenticated", str(error)) from error
        return dict(claims.get("video") or {})

    def _route(self, service: str, method: str, request: Any) -> Message:
        answer: Message = getattr(self, f"_{ROUTES[service, method][1]}")(request)
        return answer

    def _participant_of(self, room: str, identity: str) -> dict[str, Any]:
        participant = self.rooms.get(room, {}).get(identity)
        if participant is None:
            raise TwirpError(404, "not_found", "participant not found")
        return participant

    def _info(self, participant: dict[str, Any]) -> models_proto.ParticipantInfo:
        return Parse(json.dumps(participant), models_proto.ParticipantInfo())

    # RoomService

    def _list_rooms(self, request: Any) -> Message:
        names = list(request.names) or list(self.rooms)
        rooms = [
            models_proto.Room(name=name, num_participants=len(self.rooms[name]))
            for name in names
            if name in self.rooms
        ]
        return room_proto.ListRoomsResponse(rooms=rooms)

    def _delete_room(self, request: Any) -> Message:
        if self.rooms.pop(request.room, None) is None:
            raise TwirpError(404, "not_found", "room not found")
        return room_proto.DeleteRoomResponse()

    def _list_participants(self, request: Any) -> Message:
        if request.room not in self.rooms:
            raise TwirpError(404, "not_found", "room not found")
        participants = [self._info(p) for p in self.rooms[request.room].values()]
        return room_proto.ListParticipantsResponse(participants=participants)

    def _get_participant(self, request: Any) -> Message:
        return self._info(self._participant_of(request.room, request.identity))

    def _remove_participant(self, request: Any) -> Message:
        self._participant_of(request.room, request.identity)
        del self.rooms[request.room][request.identity]
        return room_proto.RemoveParticipantResponse()

    def _mute_track(self, request: Any) -> Message:
        participant = self._participant_of(request.room, request.identity)
        track = next((t for t in participant["tracks"] if t["sid"] == request.track_sid), None)
        if track is None:
            raise TwirpError(404, "not_found", "track not found")
        track["muted"] = request.muted
        return room_proto.MuteRoomTrackResponse(
            track=Parse(json.dumps(track), models_proto.TrackInfo())
        )

    def _update_participant(self, request: Any) -> Message:
        participant = self._participant_of(request.room, request.identity)
        if request.HasField("permission"):
            permission = request.permission
            participant["permission"] = {
                name: getattr(permission, name)
                for name in ("can_subscribe", "can_publish", "can_publish_data")
            }
        return self._info(participant)

    # Egress

    def _start_egress(self, request: Any) -> Message:
        if request.room_name not in self.rooms:
            raise TwirpError(412, "failed_precondition", "room does not exist")
        egress_id = new_id("EG")
        output = request.file_outputs[0] if request.file_outputs else request.file
        info = {
            "egress_id": egress_id,
            "room_name": request.room_name,
            "status": "EGRESS_STARTING",
            "started_at": str(time.time_ns()),
            "file_results": [{"filename": output.filepath, "location": output.filepath}],
            "request": MessageToDict(request, preserving_proto_field_name=True),
        }
        self.egresses[egress_id] = info
        return self._egress_info(info)

    def _stop_egress(self, request: Any) -> Message:
        info = self.egresses.get(request.egress_id)
        if info is None:
            raise TwirpError(404, "not_found", "egress not found")
        if info["status"] not in ("EGRESS_STARTING", "EGRESS_ACTIVE"):
            raise TwirpError(412, "failed_precondition", "egress is not active")
        info["status"] = "EGRESS_ENDING"
        return self._egress_info(info)

    def _list_egress(self, request: Any) -> Message:
        items = [
            self._egress_info(info)
            for info in self.egresses.values()
            if (not request.room_name or info["room_name"] == request.room_name)
            and (not request.egress_id or info["egress_id"] == request.egress_id)
            and (not request.active or info["status"] in ("EGRESS_STARTING", "EGRESS_ACTIVE"))
        ]
        return egress_proto.ListEgressResponse(items=items)

    def _egress_info(self, info: dict[str, Any]) -> egress_proto.EgressInfo:
        public = {k: v for k, v in info.items() if k != "request"}
        return Parse(json.dumps(public), egress_proto.EgressInfo(), ignore_unknown_fields=True)


@contextmanager
def serve(*, key: str = KEY, secret: str = SECRET) -> Iterator[FakeLiveKit]:
    """Run a stand-in and point the LIVEKIT_* settings at it for the `with` block."""
    with (
        FakeLiveKit(key=key, secret=secret) as fake,
        override_settings(LIVEKIT_URL=fake.url, LIVEKIT_API_KEY=key, LIVEKIT_API_SECRET=secret),
    ):
        yield fake


def serve_for(test: SimpleTestCase) -> FakeLiveKit:
    """Start a stand-in for `test`, point LIVEKIT_* at it, and undo both when the test ends."""
    fake = FakeLiveKit().__enter__()
    test.addCleanup(fake.__exit__)
    overrides = override_settings(
        LIVEKIT_URL=fake.url, LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=SECRET
    )
    overrides.enable()
    test.addCleanup(overrides.disable)
    return fake
