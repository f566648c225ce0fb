"""LiveKit as the tests see it: server settings, and webhooks signed the way LiveKit signs them."""

import base64
import hashlib
import json
from typing import Any

from django.test import Client, override_settings
from livekit import api

KEY = "APIlecterntests"
SECRET = "a-test-secret-of-well-over-32-bytes-long"
URL = "wss://live.example.org"

livekit_on = override_settings(LIVEKIT_URL=URL, LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=SECRET)


def sign(body: str, *, key: str = KEY, secret: str = SECRET) -> str:
    """Return the Authorization header LiveKit sends with `body`: a JWT over its sha256."""
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(key, secret).with_sha256(digest).to_jwt()


def event(
    kind: str,
    event_id: str,
    *,
    room: str,
    at: int,
    identity: str = "",
    sid: str = "",
) -> dict[str, Any]:
    """Return a webhook event as LiveKit writes it (int64 fields as strings)."""
    body: dict[str, Any] = {
        "event": kind,
        "id": event_id,
        "createdAt": str(at),
        "room": {"sid": "RM_test", "name": room},
    }
    if identity:
        body["participant"] = {"sid": sid, "identity": identity, "name": "Someone"}
    return body


def post_event(client: Client, payload: dict[str, Any], *, authorization: str | None = None) -> Any:
    body = json.dumps(payload)
    return client.post(
        "/live/webhooks/livekit/",
        data=body,
        content_type="application/webhook+json",
        headers={"Authorization": sign(body) if authorization is None else authorization},
    )
