"""The pages of course AI; `answer` is what every AI page polls for its text."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ai import generation


@never_cache
@login_required
@require_GET
def answer(request: HttpRequest, token: str) -> JsonResponse:
    """The generation `token` so far, as JSON; someone else's, or a forgotten one, is a 404."""
    current = generation.state(token, request.user)
    if current is None:
        raise Http404(generation.GONE)
    return JsonResponse(current.as_json())
