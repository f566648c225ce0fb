"""What every AI page shares: the answer it shows, read from `?answer=<token>`.

An AI form posts, the view starts a generation (`ai.generation.start`) and
redirects back to the page with the generation's token in the query string,
so a reload shows the same answer and the browser's back button works.
"""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ai import generation


def answer_context(request: HttpRequest) -> dict[str, Any]:
    """Return `answer` (the generation's state, or None) and `answer_url` for the templates."""
    token = request.GET.get("answer", "")
    if not token or len(token) > 64:
        return {"answer": None}
    current = generation.state(token, request.user)
    if current is None:
        current = generation.State(
            user_id=request.user.pk or 0, status="failed", started_at=0, error=generation.GONE
        )
    return {"answer": current, "answer_url": reverse("ai:answer", args=[token])}


def with_answer(url: str, token: str) -> str:
    """Return `url` with `?answer=<token>`, where its page shows that answer."""
    return f"{url}?answer={token}"
