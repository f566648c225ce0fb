"""“Tell me when it opens”: a visitor leaves an address for a full or not-yet-open course."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.http import Request
from core.ratelimit import Limit, client_ip, hit, too_many_requests
from courses import enrolment_policy
from courses.models import Course
from crm import services
from crm.forms import LeadForm
from crm.models import Lead
from storefront import interest

LEADS = Limit("crm_lead", count=5, window=3600)


def _course(request: Request, slug: str) -> tuple[Course, enrolment_policy.Answer]:
    course = get_object_or_404(
        Course.objects.select_related("teacher").with_enrolment_facts(), slug=slug
    )
    answer = enrolment_policy.answer_for(request.user, course)
    if not answer.reachable:
        raise Http404
    return course, answer


@never_cache
@require_http_methods(["GET", "POST"])
def notify_me(request: Request, slug: str) -> HttpResponse:
    """Ask for a course's opening email (GET: the form; POST: keep the address, once)."""
    course, answer = _course(request, slug)
    open_now = not interest.url_for(course, answer)
    context = {"course": course, "open_now": open_now}
    initial = {}
    if request.user.is_authenticated:
        initial = {"email": request.user.email, "name": request.user.get_full_name()}
    if request.method == "GET" or open_now:
        form = LeadForm(initial=initial)
        return render(request, "crm/notify_me.html", {**context, "form": form})
    verdict = hit(LEADS, client_ip(request))
    if not verdict.allowed:
        return too_many_requests(request, verdict.retry_after)
    form = LeadForm(request.POST)
    if not form.is_valid():
        return render(request, "crm/notify_me.html", {**context, "form": form}, status=400)
    if not form.cleaned_data["website"]:
        # A bot that filled the hidden field is thanked the same way and nothing is kept.
        services.record_lead(
            course=course, email=form.cleaned_data["email"], name=form.cleaned_data["name"]
        )
    return render(
        request, "crm/notify_me_done.html", {"course": course, "email": form.cleaned_data["email"]}
    )


@csrf_exempt  # RFC 8058 one-click: mail providers POST without cookies; the token authorises.
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: Request, token: str) -> HttpResponse:
    """Forget a lead: GET asks to confirm, POST (also one-click from mail clients) forgets."""
    if request.method == "GET":
        asked = get_object_or_404(Lead.objects.select_related("course"), token=token[:64])
        return render(request, "crm/unsubscribe.html", {"lead": asked})
    lead = Lead.objects.select_related("course").filter(token=token[:64]).first()
    # Asking twice (a mail client and then the person) is answered the same way.
    course_title = lead.course.title if lead else ""
    if lead is not None:
        services.forget_lead(lead=lead)
    return render(request, "crm/unsubscribed.html", {"course_title": course_title})
