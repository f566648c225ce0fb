from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def bare(request: HttpRequest) -> HttpResponse:
    """Answer through the full middleware stack with no work of its own."""
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_POST
def bare_post(request: HttpRequest) -> HttpResponse:
    """Read a POST's body through the full middleware stack and answer as a webhook does."""
    return JsonResponse({"received": True, "bytes": len(request.body)})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare/post/", bare_post),
    path("", include("config.urls")),
]
