"""Every use Lectern makes of LiveKit's SDK, and the only module that imports it.

Join tokens are minted here and webhooks verified here; answers come back as
plain values (a JWT string, an event dict), so nothing above this module
handles the SDK's objects.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from google.protobuf.json_format import MessageToDict
from livekit import api

TOKEN_LIFETIME = timedelta(minutes=10)


class BadWebhookError(Exception):
    """A webhook whose signature, key or body hash doesn't check out."""


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

    Integers LiveKit sends as int64 (`createdAt`, `joinedAt`) come back as
    strings, as protobuf's JSON mapping writes them.
    """
    if not configured():
        raise BadWebhookError("Live classes aren't set up on this server.")
    verifier = api.TokenVerifier(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
    try:
        event = api.WebhookReceiver(verifier).receive(body, auth_header)
    except Exception as error:  # the SDK raises bare Exceptions and JWT errors alike
        raise BadWebhookError(str(error) or type(error).__name__) from error
    return MessageToDict(event)
