"""The privacy registry: the guard over every model, its own rules, and what it drives."""

import json
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from accounts.models import User
from privacy import retention, tasks
from privacy.models import PolicyAcceptance
from privacy.registry import Erasure, Registry, Retention, registry

# Field names that hold, or usually hold, something that identifies a person.
PERSONAL_FIELD_NAMES = {
    "address", "birthday", "date_of_birth", "display_name", "dob", "email", "first_name",
    "full_name", "ip", "ip_address", "last_name", "name", "phone", "uid", "user_agent",
    "username",
}  # fmt: skip
PERSONAL_FIELD_PATTERN = re.compile(
    r"^(email|phone|birth|avatar)|_(email|phone|ip|address|birth_?date)$"
)


def _user_model() -> type[models.Model]:
    return apps.get_model(settings.AUTH_USER_MODEL)


def _personal_data_reasons(model: type[models.Model]) -> list[str]:
    """Return why `model` looks like it holds personal data (empty if it does not)."""
    user_model = _user_model()
    if model is user_model:
        return ["is the user model"]
    reasons = []
    for field in [*model._meta.fields, *model._meta.many_to_many]:
        if field.is_relation and field.related_model is user_model:
            reasons.append(f"{field.name} references the user model")
        elif field.name in PERSONAL_FIELD_NAMES or PERSONAL_FIELD_PATTERN.search(field.name):
            reasons.append(f"field {field.name!r} looks personal")
    return reasons


def _is_declared(model: type[models.Model]) -> bool:
    # A proxy shares its concrete model's table, so the concrete model's declaration covers it.
    concrete = model._meta.concrete_model or model
    return registry.is_declared(model) or registry.is_declared(concrete)


def test_it_declares_every_model_that_holds_personal_data() -> None:
    undeclared = [
        f"{model._meta.label} ({'; '.join(reasons)})"
        for model in apps.get_models()
        if (reasons := _personal_data_reasons(model)) and not _is_declared(model)
    ]
    assert not undeclared, (
        "These models hold personal data but are neither registered nor exempted in their "
        "app's privacy.py. Register each with privacy.registry.register(...) or, if it holds "
        "no personal data after all, exempt it with a written reason:\n  " + "\n  ".join(undeclared)
    )


def test_it_recognises_personal_data_in_the_models_it_knows() -> None:
    # Proves the guard above is not vacuous: it sees these as personal.
    for model in (User, PolicyAcceptance, EmailAddress, EmailConfirmation, SocialAccount,
                  UserSession, LogEntry):  # fmt: skip
        assert _personal_data_reasons(model), model._meta.label
    assert not _personal_data_reasons(ContentType)


def test_it_gives_every_exemption_a_reason() -> None:
    for label, reason in registry.exemptions.items():
        assert reason.strip(), f"{label} is exempted without a reason"


def test_it_registers_the_foundation_models() -> None:
    for model in (User, EmailAddress, SocialAccount, UserSession, PolicyAcceptance, LogEntry):
        assert model._meta.label in registry.entries
    for model in (Session, SocialApp, ContentType):
        assert model._meta.label in registry.exemptions


def test_it_describes_every_entry_for_people() -> None:
    for entry in registry:
        assert entry.category.strip(), entry.label
        assert entry.purpose.strip(), entry.label
        assert entry.retention.description.strip(), entry.label
        if entry.retention.period is not None:
            assert entry.retention.swept, f"{entry.label} has a period but no sweep"


# The registry's own rules, on a registry of its own so the real one is untouched.


def _keep_forever() -> Retention:
    return Retention("While your account exists")


def test_it_refuses_keeping_data_without_a_legal_reason() -> None:
    with pytest.raises(ValueError, match="legal reason"):
        Registry().register(
            PolicyAcceptance,
            category="x",
            purpose="x",
            owner="user",
            retention=_keep_forever(),
            erasure=Erasure.KEEP,
            eraser=lambda user: 0,
        )


def test_it_refuses_anonymising_without_an_eraser() -> None:
    with pytest.raises(ValueError, match="eraser"):
        Registry().register(
            PolicyAcceptance,
            category="x",
            purpose="x",
            owner="user",
            retention=_keep_forever(),
            erasure=Erasure.ANONYMISE,
        )


def test_it_refuses_keeping_without_an_eraser() -> None:
    with pytest.raises(ValueError, match="eraser"):
        Registry().register(
            PolicyAcceptance,
            category="x",
            purpose="x",
            owner="user",
            retention=_keep_forever(),
            erasure=Erasure.KEEP,
            legal_reason="evidence",
        )


def test_it_refuses_registering_a_model_twice() -> None:
    own = Registry()
    own.register(PolicyAcceptance, category="x", purpose="x", owner="user",
                 retention=_keep_forever())  # fmt: skip
    with pytest.raises(ValueError, match="already declared"):
        own.register(PolicyAcceptance, category="y", purpose="y", owner="user",
                     retention=_keep_forever())  # fmt: skip
    with pytest.raises(ValueError, match="already declared"):
        own.exempt(PolicyAcceptance, reason="changed my mind")


def test_it_refuses_exempting_a_registered_model_or_twice() -> None:
    own = Registry()
    own.exempt(ContentType, reason="Static model names.")
    with pytest.raises(ValueError, match="already declared"):
        own.exempt(ContentType, reason="again")
    with pytest.raises(ValueError, match="already declared"):
        own.register(ContentType, category="x", purpose="x", owner="pk",
                     retention=_keep_forever())  # fmt: skip


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_an_exemption_without_a_reason(reason: str) -> None:
    with pytest.raises(ValueError, match="reason"):
        Registry().exempt(ContentType, reason=reason)


@pytest.mark.django_db
def test_it_exports_all_fields_but_the_owner_link_and_password_by_default(alice: User) -> None:
    own = Registry()
    entry = own.register(User, category="x", purpose="x", owner="pk", retention=_keep_forever())
    [row] = list(entry.exporter(alice))
    assert row["email"] == "alice@example.com"
    assert "password" not in row
    acceptance = own.register(PolicyAcceptance, category="x", purpose="x", owner="user",
                              retention=_keep_forever())  # fmt: skip
    rows = list(acceptance.exporter(alice))
    assert rows
    assert all("user_id" not in row and "user" not in row for row in rows)


# Export, erasure and retention over a person with a row in every foundation table.


@pytest.fixture
def everything_of_alice(alice: User) -> User:
    """Give alice a row in each table the foundation declares as personal."""
    address = EmailAddress.objects.get(user=alice)
    EmailConfirmation.objects.create(email_address=address, key="k" * 64, sent=timezone.now())
    app = SocialApp.objects.create(provider="google", name="Google", client_id="id", secret="s")
    account = SocialAccount.objects.create(
        user=alice,
        provider="google",
        uid="109876543210",
        extra_data={"email": alice.email, "name": "Alice Archer", "picture": "https://x/a.png"},
    )
    SocialToken.objects.create(app=app, account=account, token="t", expires_at=timezone.now())
    UserSession.objects.create(
        user=alice, ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux)", session_key="s1"
    )
    LogEntry.objects.create(
        user=alice,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(alice.pk),
        object_repr=str(alice),
        action_flag=ADDITION,
        change_message="[]",
    )
    return alice


FILLED = {
    User, EmailAddress, EmailConfirmation, SocialAccount, SocialToken, UserSession, LogEntry,
    PolicyAcceptance,
}  # fmt: skip


@pytest.mark.django_db
def test_it_exports_json_serialisable_rows_for_every_entry(everything_of_alice: User) -> None:
    for entry in registry:
        rows = list(entry.exporter(everything_of_alice))
        assert all(isinstance(row, dict) for row in rows), entry.label
        json.dumps(rows, cls=DjangoJSONEncoder)
        if entry.model in FILLED:
            assert rows, f"{entry.label} exported nothing for a user who has rows"


@pytest.mark.django_db
def test_it_exports_only_the_owners_rows(everything_of_alice: User, bob: User) -> None:
    for entry in registry:
        for row in entry.exporter(bob):
            assert everything_of_alice.email not in json.dumps(row, cls=DjangoJSONEncoder), (
                f"{entry.label} exported alice's data to bob"
            )


@pytest.mark.django_db
def test_it_runs_every_eraser(everything_of_alice: User, bob: User) -> None:
    alice = everything_of_alice
    user_entry = registry.entries[User._meta.label]
    for entry in registry:
        if entry is user_entry:
            continue
        assert isinstance(entry.eraser(alice), int), entry.label
        if entry.erasure is Erasure.DELETE:
            assert not entry.rows_for(alice).exists(), f"{entry.label} kept rows after erasure"
    assert isinstance(user_entry.eraser(alice), int)

    assert not User.objects.filter(pk=alice.pk).exists()
    kept = PolicyAcceptance.objects.filter(user=None)
    assert kept.exists()
    assert not kept.filter(user_deleted_at=None).exists()
    # Other people's data is untouched.
    assert User.objects.filter(pk=bob.pk).exists()
    assert PolicyAcceptance.objects.filter(user=bob).exists()
    assert EmailAddress.objects.filter(user=bob).exists()


def _anonymised_acceptance(user: User, deleted_days_ago: int, document: str) -> PolicyAcceptance:
    acceptance = PolicyAcceptance.objects.create(user=user, document=document, sha256="0" * 64)
    registry.entries[PolicyAcceptance._meta.label].eraser(user)
    PolicyAcceptance.objects.filter(pk=acceptance.pk).update(
        user_deleted_at=timezone.now() - timedelta(days=deleted_days_ago)
    )
    return acceptance


@pytest.fixture
def acceptances_and_sessions(dave: User) -> dict[str, object]:
    old = _anonymised_acceptance(dave, deleted_days_ago=731, document="terms")
    recent = _anonymised_acceptance(dave, deleted_days_ago=700, document="privacy")
    now = timezone.now()
    expired = Session.objects.create(
        session_key="expired0", session_data="", expire_date=now - timedelta(minutes=1)
    )
    live = Session.objects.create(
        session_key="live0000", session_data="", expire_date=now + timedelta(days=1)
    )
    return {"old": old, "recent": recent, "expired": expired, "live": live}


def _assert_swept(rows: dict[str, object], results: dict[str, int]) -> None:
    assert -1 not in results.values(), f"a sweep failed: {results}"
    assert not PolicyAcceptance.objects.filter(pk=rows["old"].pk).exists()  # type: ignore[attr-defined]
    assert PolicyAcceptance.objects.filter(pk=rows["recent"].pk).exists()  # type: ignore[attr-defined]
    assert not Session.objects.filter(session_key="expired0").exists()
    assert Session.objects.filter(session_key="live0000").exists()


@pytest.mark.django_db
def test_it_sweeps_expired_rows_and_keeps_the_rest(acceptances_and_sessions: dict) -> None:
    results = retention.sweep_all()
    _assert_swept(acceptances_and_sessions, results)
    assert results[PolicyAcceptance._meta.label] == 1


@pytest.mark.django_db
def test_it_sweeps_from_the_celery_task(acceptances_and_sessions: dict) -> None:
    results = tasks.sweep_retention_task.apply(throw=True).result
    assert isinstance(results, dict)
    _assert_swept(acceptances_and_sessions, results)


@pytest.mark.django_db
def test_it_can_sweep_again_without_harm(acceptances_and_sessions: dict) -> None:
    retention.sweep_all()
    again = retention.sweep_all()
    assert again[PolicyAcceptance._meta.label] == 0
    _assert_swept(acceptances_and_sessions, again)


@pytest.mark.django_db
def test_it_keeps_acceptances_of_people_who_still_have_an_account(alice: User) -> None:
    PolicyAcceptance.objects.filter(user=alice).update(
        accepted_at=timezone.now() - timedelta(days=3650)
    )
    retention.sweep_all()
    assert PolicyAcceptance.objects.filter(user=alice).exists()
