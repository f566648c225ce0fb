"""The "Contact us" page for anyone and the Help form for signed-in people.

Spam is turned away without a third-party CAPTCHA. A honeypot: a submission
that fills in the hidden field is thanked like anyone else, and nothing is
stored or sent. Rate limits: a few requests an hour per address and per email
for visitors, per account for signed-in people; over the limit the page says
when to try again (429). Only submissions are counted, so mistyping a field
costs nothing.
"""

import hashlib
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from core import ratelimit
from core.http import AuthedRequest, Request
from support import services
from support.forms import ContactForm, HelpForm, SupportForm

HOUR = 3600
PER_ADDRESS = ratelimit.Limit("support_ip", count=5, window=HOUR)
PER_EMAIL = ratelimit.Limit("support_email", count=5, window=HOUR)
PER_ACCOUNT = ratelimit.Limit("support_user", count=5, window=HOUR)


def _email_key(email: str) -> str:
    # Hashed: the counter's key needs no address in it.
    return "email:" + hashlib.sha256(email.lower().encode()).hexdigest()[:32]


def _too_many(request: Request, retry_after: int) -> HttpResponse:
    response = render(
        request,
        "support/too_many.html",
        {"retry_minutes": -(-retry_after // 60)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _refused(*verdicts: ratelimit.Verdict) -> ratelimit.Verdict | None:
    refused = [verdict for verdict in verdicts if not verdict.allowed]
    return max(refused, key=lambda verdict: verdict.retry_after) if refused else None


@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: Request) -> HttpResponse:
    """Write to the team without an account; signed-in people use the Help form."""
    topic = request.GET.get("topic", "")
    if request.user.is_authenticated:
        path = reverse("support:help")
        return redirect(f"{path}?{urlencode({'topic': topic})}" if topic else path)
    if request.method != "POST":
        return render(request, "support/contact.html", {"form": ContactForm(topic=topic)})
    by_address = f"ip:{ratelimit.client_ip(request)}"
    if SupportForm.caught(request.POST):
        ratelimit.hit(PER_ADDRESS, by_address)
        return redirect("support:sent")
    form = ContactForm(request.POST)
    if not form.is_valid():
        return render(request, "support/contact.html", {"form": form}, status=400)
    data = form.cleaned_data
    refused = _refused(
        ratelimit.hit(PER_ADDRESS, by_address), ratelimit.hit(PER_EMAIL, _email_key(data["email"]))
    )
    if refused:
        return _too_many(request, refused.retry_after)
    services.submit_request(
        name=data["name"], email=data["email"], category=data["category"], message=data["message"]
    )
    return redirect("support:sent")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def help_request(request: AuthedRequest) -> HttpResponse:
    """Ask for help as a signed-in person: the answer goes to the account's address."""
    user = request.user
    if request.method != "POST":
        form = HelpForm(topic=request.GET.get("topic", ""))
        return render(request, "support/help.html", {"form": form})
    if SupportForm.caught(request.POST):
        ratelimit.hit(PER_ACCOUNT, f"user:{user.pk}")
        return redirect("support:sent")
    form = HelpForm(request.POST)
    if not form.is_valid():
        return render(request, "support/help.html", {"form": form}, status=400)
    verdict = ratelimit.hit(PER_ACCOUNT, f"user:{user.pk}")
    if not verdict.allowed:
        return _too_many(request, verdict.retry_after)
    data = form.cleaned_data
    services.submit_request(
        user=user,
        name=user.get_full_name() or user.email,
        email=user.email,
        category=data["category"],
        message=data["message"],
    )
    return redirect("support:sent")


@require_safe
def sent(request: Request) -> HttpResponse:
    """Thank the person: their message is with the team."""
    return render(request, "support/sent.html")
