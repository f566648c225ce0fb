"""Every use Lectern makes of LiveKit's SDK, and the only module that imports it.

Join tokens are minted here and webhooks verified here, and every call to
LiveKit's server API (rooms, participants, recordings) is made here; answers
come back as plain values (a JWT string, dicts, ids), so nothing above this
module handles the SDK's objects. The recordings' own storage (the bucket
LiveKit's egress writes to) is reached from here too.

The SDK's server API is asynchronous. Lectern's views are not, so each call
runs in its own short event loop (`_call`) with its own HTTP session, closed
after the call, and a timeout of a few seconds: a teacher's click waits no
longer than that for an unreachable server. Any failure to get LiveKit's
answer is raised as `LiveKitUnavailableError`, with a sentence a teacher can
read.
"""

import asyncio
import base64
import binascii
import concurrent.futures
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import boto3
import botocore.config
import botocore.exceptions
from django.conf import settings
from django.utils.http import content_disposition_header
from livekit import api
from livekit.protocol import egress as egress_proto
from livekit.protocol import models as models_proto
from livekit.protocol import room as room_proto

TOKEN_LIFETIME = timedelta(minutes=10)
# How long one call to LiveKit's server API may take, in seconds.
API_TIMEOUT = 5.0


class BadWebhookError(Exception):
    """A webhook whose signature, key or body hash doesn't check out."""


class RoomNotOpenError(Exception):
    """LiveKit has no such room open now (nobody joined it yet, or it closed)."""


class RecordingStorageError(Exception):
    """The recordings' storage couldn't be reached, or refused what was asked."""


class LiveKitUnavailableError(Exception):
    """LiveKit's server API didn't answer, or answered with an error; `message` says which."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        # LiveKit's error code ("not_found", "failed_precondition"…); "" when it didn't answer.
        self.code = code


def configured() -> bool:
    """Say whether live classes are on: the server's address, key and secret are all set."""
    return bool(settings.LIVEKIT_URL and settings.LIVEKIT_API_KEY and settings.LIVEKIT_API_SECRET)


def server_url() -> str:
    return settings.LIVEKIT_URL


def join_token(
    *,
    room: str,
    identity: str,
    name: str,
    room_admin: bool = False,
    room_record: bool = False,
    can_publish: bool = False,
    can_publish_data: bool = False,
    can_subscribe: bool = True,
) -> str:
    """Return a short-lived JWT letting `identity` join `room` with the given grants."""
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        room_admin=room_admin or None,
        room_record=room_record or None,
        can_publish=can_publish,
        can_publish_data=can_publish_data,
        can_subscribe=can_subscribe,
    )
    token = (
        api.AccessToken(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
        .with_identity(identity)
        .with_name(name)
        .with_grants(grants)
        .with_ttl(TOKEN_LIFETIME)
    )
    return token.to_jwt()


def receive_webhook(body: str, auth_header: str) -> dict[str, Any]:
    """Verify a webhook's JWT and body hash; return the event as a dict.

    The check is the SDK's `WebhookReceiver.receive` minus its last step: the
    SDK's `TokenVerifier` verifies the JWT (signature with the API secret,
    issuer the API key, expiry), and the body's sha256 must equal the token's
    `sha256` claim. The receiver would then parse the verified body into a
    protobuf message, which Lectern would only turn back into a dict; reading
    the JSON directly gives the same dict (LiveKit's notifier writes protobuf's
    default JSON: camelCase names, int64 fields such as `createdAt` as
    strings) at a fraction of the cost, which is what lets ingest keep pace with a class.
    `test_client` holds this to the SDK's receiver: each delivery is accepted
    by one exactly when it is by the other, with the same event.
    """
    if not configured():
        raise BadWebhookError("Live classes aren't set up on this server.")
    verifier = api.TokenVerifier(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
    try:
        claims = verifier.verify(auth_header)
    except Exception as error:  # pyjwt's errors, and bare ones from the SDK
        raise BadWebhookError(str(error) or type(error).__name__) from error
    if not claims.sha256:
        raise BadWebhookError("The token carries no body hash.")
    try:
        signed_hash = base64.b64decode(claims.sha256, validate=True)
    except binascii.Error:
        raise BadWebhookError("The token's body hash isn't base64.") from None
    if not hmac.compare_digest(signed_hash, hashlib.sha256(body.encode()).digest()):
        raise BadWebhookError("The body doesn't match the token's hash.")
    try:
        event = json.loads(body)
    except ValueError:
        raise BadWebhookError("The body isn't JSON.") from None
    if not isinstance(event, dict):
        raise BadWebhookError("The body isn't a LiveKit event.")
    return event


# --- LiveKit's server API --------------------------------------------------------------------


def api_url() -> str:
    """Return the HTTP address of LiveKit's server API: LIVEKIT_URL with ws→http, wss→https."""
    url = settings.LIVEKIT_URL
    if url.startswith("ws"):
        url = "http" + url[2:]
    return url.rstrip("/")


def _call[T](operation: Callable[[api.LiveKitAPI], Awaitable[T]]) -> T:
    """Run `operation` against LiveKit's server API and return its answer.

    A fresh client (and HTTP session) per call, always closed; no failover to
    other regions, so a server that is down fails after one attempt.
    """
    if not configured():
        raise LiveKitUnavailableError("Live classes aren't set up on this server.")

    async def run() -> T:
        client = api.LiveKitAPI(
            api_url(),
            settings.LIVEKIT_API_KEY,
            settings.LIVEKIT_API_SECRET,
            timeout=aiohttp.ClientTimeout(total=API_TIMEOUT),
            failover=False,
        )
        try:
            return await operation(client)
        finally:
            await client.aclose()

    try:
        return _run(run)
    except api.TwirpError as error:
        raise LiveKitUnavailableError(
            f"The live server refused the request ({error.code}: {error.message or error.status}).",
            code=error.code,
        ) from error
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise LiveKitUnavailableError(
            "The live server can't be reached right now. Please try again in a moment."
        ) from error


def _run[T](coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to its end, in a thread of its own if this one already runs a loop."""

    async def main() -> T:
        return await coroutine()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _not_found(error: LiveKitUnavailableError) -> bool:
    return error.code == api.TwirpErrorCode.NOT_FOUND


def _participant(info: models_proto.ParticipantInfo) -> dict[str, Any]:
    joined_ms = info.joined_at_ms or info.joined_at * 1000
    return {
        "identity": info.identity,
        "sid": info.sid,
        "name": info.name,
        "joined_at": datetime.fromtimestamp(joined_ms / 1000, tz=UTC) if joined_ms else None,
        "state": models_proto.ParticipantInfo.State.Name(info.state),
        "can_publish": info.permission.can_publish,
        "tracks": [
            {
                "sid": track.sid,
                "type": models_proto.TrackType.Name(track.type),
                "muted": track.muted,
            }
            for track in info.tracks
        ],
    }


def list_participants(room: str) -> list[dict[str, Any]]:
    """Return who is in `room` now (identity, sid, name, joined_at, state…); [] if it isn't open."""
    request = room_proto.ListParticipantsRequest(room=room)
    try:
        answer = _call(lambda lk: lk.room.list_participants(request))
    except LiveKitUnavailableError as error:
        if _not_found(error):
            return []
        raise
    return [_participant(info) for info in answer.participants]


def get_participant(room: str, identity: str) -> dict[str, Any] | None:
    """Return one participant of `room` as `list_participants` does; None if they aren't in it."""
    request = room_proto.RoomParticipantIdentity(room=room, identity=identity)
    try:
        return _participant(_call(lambda lk: lk.room.get_participant(request)))
    except LiveKitUnavailableError as error:
        if _not_found(error):
            return None
        raise


def mute_tracks(room: str, identity: str) -> int:
    """Mute every track `identity` publishes in `room`; return how many were muted.

    Muting only silences what is published now: the person may unmute unless
    they also lose the right to publish (`set_can_publish`).
    """
    participant = get_participant(room, identity)
    if participant is None:
        return 0
    muted = 0
    for track in participant["tracks"]:
        if track["muted"]:
            continue
        mute_track(room, identity, track["sid"])
        muted += 1
    return muted


def mute_track(room: str, identity: str, track_sid: str) -> None:
    """Mute one published track."""
    request = room_proto.MuteRoomTrackRequest(
        room=room, identity=identity, track_sid=track_sid, muted=True
    )
    _call(lambda lk: lk.room.mute_published_track(request))


def remove_participant(room: str, identity: str) -> bool:
    """Disconnect `identity` from `room`; False if they weren't in it."""
    request = room_proto.RoomParticipantIdentity(room=room, identity=identity)
    try:
        _call(lambda lk: lk.room.remove_participant(request))
    except LiveKitUnavailableError as error:
        if _not_found(error):
            return False
        raise
    return True


def set_can_publish(room: str, identity: str, can_publish: bool) -> bool:
    """Let `identity` publish audio and video in `room`, or stop them; False if they aren't in it.

    Subscribing and sending data (chat, raised hands) stay allowed either way.
    """
    request = room_proto.UpdateParticipantRequest(
        room=room,
        identity=identity,
        permission=models_proto.ParticipantPermission(
            can_subscribe=True, can_publish=can_publish, can_publish_data=True
        ),
    )
    try:
        _call(lambda lk: lk.room.update_participant(request))
    except LiveKitUnavailableError as error:
        if _not_found(error):
            return False
        raise
    return True


def delete_room(room: str) -> bool:
    """End `room` for everyone in it; False if LiveKit had no such room open."""
    request = room_proto.DeleteRoomRequest(room=room)
    try:
        _call(lambda lk: lk.room.delete_room(request))
    except LiveKitUnavailableError as error:
        if _not_found(error):
            return False
        raise
    return True


def recordings_configured() -> bool:
    """Say whether recordings have somewhere to go: a bucket for LiveKit's egress to write to."""
    return configured() and bool(settings.LIVE_RECORDINGS_BUCKET)


def recording_key(room: str) -> str:
    """Return a fresh storage key for a recording of `room`."""
    return f"recordings/{room}/{secrets.token_urlsafe(12)}.mp4"


def start_room_composite_egress(room: str, key: str) -> str:
    """Start recording `room` (everyone, composed in one video) into `key`; return the egress id."""
    upload = egress_proto.S3Upload(
        access_key=settings.LIVE_RECORDINGS_ACCESS_KEY or "",
        secret=settings.LIVE_RECORDINGS_SECRET_KEY or "",
        region=settings.LIVE_RECORDINGS_REGION or "",
        endpoint=settings.LIVE_RECORDINGS_ENDPOINT_URL or "",
        bucket=settings.LIVE_RECORDINGS_BUCKET or "",
        force_path_style=bool(settings.LIVE_RECORDINGS_ENDPOINT_URL),
        content_disposition="inline",
    )
    request = egress_proto.RoomCompositeEgressRequest(
        room_name=room,
        layout="grid",
        file_outputs=[
            egress_proto.EncodedFileOutput(
                file_type=egress_proto.EncodedFileType.MP4, filepath=key, s3=upload
            )
        ],
    )
    try:
        info = _call(lambda lk: lk.egress.start_room_composite_egress(request))
    except LiveKitUnavailableError as error:
        if error.code in _NOTHING_TO_STOP:
            raise RoomNotOpenError(
                "Join the room first: it is recorded only while it is open."
            ) from error
        raise
    return info.egress_id


def stop_egress(egress_id: str) -> str:
    """Stop a recording; return its status as LiveKit names it (`EGRESS_ENDING`, …).

    "" when LiveKit has no such recording running (it ended, failed, or was
    never started): there is nothing left to stop.
    """
    request = egress_proto.StopEgressRequest(egress_id=egress_id)
    try:
        info = _call(lambda lk: lk.egress.stop_egress(request))
    except LiveKitUnavailableError as error:
        if error.code in _NOTHING_TO_STOP:
            return ""
        raise
    return egress_proto.EgressStatus.Name(info.status)


_NOTHING_TO_STOP = (api.TwirpErrorCode.NOT_FOUND, api.TwirpErrorCode.FAILED_PRECONDITION)


# --- The recordings' storage -----------------------------------------------------------------


def _recordings_bucket() -> Any:
    session = boto3.session.Session(
        aws_access_key_id=settings.LIVE_RECORDINGS_ACCESS_KEY,
        aws_secret_access_key=settings.LIVE_RECORDINGS_SECRET_KEY,
        region_name=settings.LIVE_RECORDINGS_REGION,
    )
    endpoint = settings.LIVE_RECORDINGS_ENDPOINT_URL or None
    return session.client(
        "s3",
        endpoint_url=endpoint,
        config=botocore.config.Config(
            signature_version="s3v4",
            # S3-compatible servers at their own address (MinIO…) take the bucket in the path.
            s3={"addressing_style": "path" if endpoint else "auto"},
            connect_timeout=5,
            read_timeout=10,
            retries={"max_attempts": 2},
        ),
    )


def recording_url(key: str, *, filename: str) -> str:
    """Return a short-lived signed URL that plays the recording at `key` in the browser."""
    return _recordings_bucket().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.LIVE_RECORDINGS_BUCKET,
            "Key": key,
            "ResponseContentType": "video/mp4",
            "ResponseContentDisposition": content_disposition_header(False, filename),
            "ResponseCacheControl": "private, max-age=0",
        },
        ExpiresIn=settings.FILE_URL_TTL_SECONDS,
    )


def delete_recording_file(key: str) -> None:
    """Delete the recording at `key` from storage; one already gone is no error.

    Raise RecordingStorageError when storage can't be reached or refuses.
    """
    try:
        _recordings_bucket().delete_object(Bucket=settings.LIVE_RECORDINGS_BUCKET, Key=key)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise RecordingStorageError(f"The recording {key} couldn't be deleted: {error}") from error
