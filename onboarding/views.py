"""The welcome survey a new account is sent to right after signing up."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import User
from core.http import AuthedRequest
from onboarding import selectors, services
from onboarding.forms import SurveyForm
from onboarding.models import SurveyAnswer
from onboarding.questions import role_of


@login_required
@require_http_methods(["GET", "POST"])
def welcome(request: AuthedRequest) -> HttpResponse:
    """Ask a few optional questions; Skip or Save, and never be sent here again.

    Coming back later (a retake) shows the answers given before, as long as
    they were given in the person's current role.
    """
    user = request.user
    role = role_of(user)
    if request.method == "POST":
        if "skip" in request.POST:
            services.skip(user=user, role=role)
            return redirect("dashboard")
        form = SurveyForm(request.POST, role=role)
        if form.is_valid():
            services.save_answers(user=user, role=role, answers=form.answers())
            messages.success(request, "Thanks: your dashboard is set up from your answers.")
            return redirect("dashboard")
        return render(request, "onboarding/welcome.html", _context(user, form), status=400)
    return render(request, "onboarding/welcome.html", _context(user, _prefilled(user, role)))


def _prefilled(user: User, role: str) -> SurveyForm:
    initial: dict[str, list[str] | str] = {}
    answers = SurveyAnswer.objects.filter(response__user=user, response__role=role)
    form = SurveyForm(role=role)
    many = {q.key for q in form.questions if q.many}
    for question, choice in answers.values_list("question", "choice"):
        if question in many:
            initial.setdefault(question, [])
            value = initial[question]
            if isinstance(value, list):
                value.append(choice)
        else:
            initial[question] = choice
    form.initial = initial
    return form


def _context(user: User, form: SurveyForm) -> dict[str, object]:
    return {"form": form, "retake": selectors.preferences_for(user).asked}
