"""The privacy registry: one declaration per model that holds personal data.

Each app's `privacy.py` (autodiscovered, the way `admin.py` is) registers its
models. Export, deletion, the retention sweep, the privacy dashboard and the
privacy policy's retention section all read from here, so what the product says
about personal data and what the code does cannot drift apart.

A model is either registered or exempted with a written reason; the registry
test fails for any model that references the user model or has personal-looking
fields and is neither.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.db import models

type Exporter = Callable[[Any], list[dict[str, Any]]]
type Eraser = Callable[[Any], int]
type Sweeper = Callable[[], int]


class Erasure(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    KEEP = "keep"  # kept for a stated legal reason and period, then swept


@dataclass(frozen=True)
class Retention:
    """How long rows are kept and the job that enforces it.

    `description` is the sentence the privacy policy and dashboard show.
    `sweep`, when given, deletes or anonymises expired rows and returns how
    many it touched; the retention task runs every sweep in the registry.
    """

    description: str
    period: timedelta | None = None
    sweep: Sweeper | None = None


@dataclass(frozen=True)
class Entry:
    model: type[models.Model]
    category: str
    purpose: str
    owner: str  # ORM path from the model to the user, e.g. "user" or "course__teacher"
    exporter: Exporter
    erasure: Erasure
    eraser: Eraser
    retention: Retention
    legal_reason: str = ""

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows_for(self, user: Any) -> models.QuerySet:
        """Return this model's rows that belong to `user`."""
        return self.model._default_manager.filter(**_owner_lookup(self.owner, user))


@dataclass
class Registry:
    entries: dict[str, Entry] = field(default_factory=dict)
    exemptions: dict[str, str] = field(default_factory=dict)

    def register(
        self,
        model: type[models.Model],
        *,
        category: str,
        purpose: str,
        owner: str,
        retention: Retention,
        erasure: Erasure = Erasure.DELETE,
        exporter: Exporter | None = None,
        eraser: Eraser | None = None,
        legal_reason: str = "",
        fields: Iterable[str] | None = None,
    ) -> Entry:
        """Declare how `model`'s personal data is exported, erased and retained.

        Without an `exporter`, the listed `fields` (or all concrete fields but
        the owner link) of the user's rows are exported. Without an `eraser`,
        the user's rows are deleted; anonymising or keeping needs an eraser of
        its own, and keeping needs the legal reason.
        """
        label = model._meta.label
        if label in self.entries or label in self.exemptions:
            raise ValueError(f"{label} is already declared in the privacy registry.")
        if erasure is Erasure.KEEP and not legal_reason:
            raise ValueError(f"{label}: keeping data after deletion needs a legal reason.")
        if erasure is not Erasure.DELETE and eraser is None:
            raise ValueError(f"{label}: {erasure} needs an eraser of its own.")
        entry = Entry(
            model=model,
            category=category,
            purpose=purpose,
            owner=owner,
            exporter=exporter or _field_exporter(model, owner, fields),
            erasure=erasure,
            eraser=eraser or _delete_eraser(model, owner),
            retention=retention,
            legal_reason=legal_reason,
        )
        self.entries[label] = entry
        return entry

    def exempt(self, model: type[models.Model], *, reason: str) -> None:
        """Declare that `model` holds no personal data, and why."""
        label = model._meta.label
        if not reason.strip():
            raise ValueError(f"{label}: an exemption needs a written reason.")
        if label in self.entries or label in self.exemptions:
            raise ValueError(f"{label} is already declared in the privacy registry.")
        self.exemptions[label] = reason

    def is_declared(self, model: type[models.Model]) -> bool:
        label = model._meta.label
        return label in self.entries or label in self.exemptions

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self.entries.values(), key=lambda e: (e.category, e.label)))


def _owner_lookup(owner: str, user: Any) -> dict[str, Any]:
    # Filter by the primary key: it works for relation paths ("user",
    # "course__teacher") and for the user model itself (owner "pk"), where a
    # model instance would be refused as the value of an integer field.
    return {owner: getattr(user, "pk", user)}


def _concrete_field_names(model: type[models.Model], owner: str) -> list[str]:
    skip = {owner.split("__")[0], "password"}
    return [
        f.attname if f.is_relation else f.name
        for f in model._meta.concrete_fields
        if f.name not in skip
    ]


def _field_exporter(
    model: type[models.Model], owner: str, fields: Iterable[str] | None
) -> Exporter:
    names = list(fields) if fields is not None else _concrete_field_names(model, owner)

    def export(user: Any) -> list[dict[str, Any]]:
        return list(model._default_manager.filter(**_owner_lookup(owner, user)).values(*names))

    return export


def _delete_eraser(model: type[models.Model], owner: str) -> Eraser:
    def erase(user: Any) -> int:
        deleted, _ = model._default_manager.filter(**_owner_lookup(owner, user)).delete()
        return deleted

    return erase


registry = Registry()
register = registry.register
exempt = registry.exempt
