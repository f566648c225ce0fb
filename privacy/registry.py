"""The privacy registry: one declaration per model that holds personal data.

Each app's `privacy.py` (autodiscovered, the way `admin.py` is) registers its
models. Export, deletion, the retention sweep, the privacy dashboard and the
privacy policy's retention section all read from here, so what the product says
about personal data and what the code does cannot drift apart.

A model is either registered or exempted with a written reason; the registry
test fails for any model that references the user model or has personal-looking
fields and is neither.

Privacy sits low in the stack and imports none of the apps above it: besides
their models, those apps declare here what privacy needs from them: the files
a person uploaded (for the export), the choices shown on the privacy dashboard,
and what deleting an account does beyond the rows (a teacher's courses close).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

# An exporter yields the person's rows as JSON-ready dicts. It must stream
# (iterate the database in chunks), since an export's memory may not grow with
# the size of the account.
type Exporter = Callable[[Any], Iterable[dict[str, Any]]]
type Eraser = Callable[[Any], int]
# Returns the rows past their retention period, of any model.
type Expired = Callable[[], models.QuerySet]
# Acts on one batch of those rows (inside its own transaction); returns how many it touched.
type Purge = Callable[[models.QuerySet], int]
# Returns a person's rows, for a model that reaches them by something other than a relation.
type RowsFor = Callable[[Any], models.QuerySet]

# How many rows a chunked exporter reads at a time.
EXPORT_CHUNK = 2000


class Basis(StrEnum):
    """The legal basis for holding a category of data, as the dashboard and policy show it."""

    CONTRACT = "contract"
    CONSENT = "consent"
    LEGITIMATE_INTERESTS = "legitimate interests"
    LEGAL_OBLIGATION = "legal obligation"

    @property
    def explanation(self) -> str:
        return {
            Basis.CONTRACT: "Needed to provide the service you signed up for",
            Basis.CONSENT: "You chose it, and can change your mind in Settings",
            Basis.LEGITIMATE_INTERESTS: "Needed to keep Lectern safe and working for everyone",
            Basis.LEGAL_OBLIGATION: "The law requires us to keep it",
        }[self]


class Erasure(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    KEEP = "keep"  # kept for a stated legal reason and period, then swept


@dataclass(frozen=True)
class Retention:
    """How long rows are kept and the job that enforces it.

    `description` is the sentence the privacy policy and dashboard show.
    `expired`, when given, returns the rows past their period (of any model);
    the retention sweep acts on them in small batches, each in its own
    transaction, with `purge` (by default: delete the batch).
    """

    description: str
    period: timedelta | None = None
    expired: Expired | None = None
    purge: Purge | None = None

    @property
    def swept(self) -> bool:
        return self.expired is not None


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
    schema: dict[str, str]  # exported field -> what it means, for the export's README.json
    basis: Basis = Basis.CONTRACT
    dated_by: str = ""  # the field that says since when a row exists, for the dashboard
    legal_reason: str = ""
    # What deleting the account does to these rows, in a sentence for the person: the
    # deletion page, the receipt and the privacy policy show it. Defaults from `erasure`.
    erasure_note: str = ""
    # Erased before every other entry (stored files, whose blobs other steps would orphan).
    erase_first: bool = False
    rows: RowsFor | None = None  # replaces the `owner` path when given

    @property
    def on_erasure(self) -> str:
        if self.erasure_note:
            return self.erasure_note
        if self.erasure is Erasure.DELETE:
            return "Deleted"
        if self.erasure is Erasure.KEEP:
            return f"Kept: {self.legal_reason}"
        return "Anonymised"

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows_for(self, user: Any) -> models.QuerySet:
        """Return this model's rows that belong to `user`."""
        if self.rows is not None:
            return self.rows(user)
        return self.model._default_manager.filter(**_owner_lookup(self.owner, user))


@dataclass(frozen=True)
class Rule:
    """A retention rule for data no person owns row by row (expired sessions, counters)."""

    name: str
    description: str
    retention: Retention

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class Upload:
    """A file the person uploaded, copied into their export's files/ folder."""

    key: Any  # a stable id, part of the file's name in the archive
    name: str
    size: int
    blob: FieldFile


type UploadSource = Callable[[Any], Iterable[Upload]]


@dataclass(frozen=True)
class Consent:
    """A choice the person can change from Settings → Privacy, declared by the app it is about.

    `given` says whether the person currently agrees; `save` records their
    answer (it is called with every submission, and changes nothing when the
    answer is the one already held). `more_*` add a line with a link to the
    app's own detailed settings.
    """

    name: str
    label: str
    help_text: str
    given: Callable[[Any], bool]
    save: Callable[[Any, bool], None]
    position: int = 0
    more_text: str = ""
    more_link_text: str = ""
    more_url_name: str = ""


@dataclass(frozen=True)
class DeletionWarning:
    """Something deleting the account does beyond the person's rows, said before they confirm.

    A warning that `blocks` is something that must be settled first (a
    teacher's open dispute, money still in their payments account): the
    account can't be deleted while it stands, and an erasure already
    scheduled waits for it.
    """

    title: str
    body: str
    blocks: bool = False


type DeletionWarnings = Callable[[Any], Iterable[DeletionWarning]]


@dataclass
class Registry:
    entries: dict[str, Entry] = field(default_factory=dict)
    exemptions: dict[str, str] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    upload_sources: list[UploadSource] = field(default_factory=list)
    consent_list: list[Consent] = field(default_factory=list)
    deletion_warning_sources: list[DeletionWarnings] = field(default_factory=list)

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
        schema: dict[str, str] | None = None,
        basis: Basis = Basis.CONTRACT,
        dated_by: str = "",
        erasure_note: str = "",
        erase_first: bool = False,
        rows: RowsFor | None = None,
    ) -> Entry:
        """Declare how `model`'s personal data is exported, erased and retained.

        Without an `exporter`, the listed `fields` (or all concrete fields but
        the owner link) of the user's rows are exported, and described from the
        model's verbose names and help texts. An `exporter` of its own needs a
        `schema` describing each key it writes. Without an `eraser`, the user's
        rows are deleted; anonymising or keeping needs an eraser of its own, and
        keeping needs the legal reason. `dated_by` names the date field the
        privacy dashboard uses for "since when". `erase_first` runs the eraser
        before all others (rows other steps would orphan by cascade). `rows`
        finds a person's rows for a model with no relation to the user (emails
        found by address); `owner` then only names the field, and `exporter`
        and `eraser` are required.
        """
        label = model._meta.label
        if label in self.entries or label in self.exemptions:
            raise ValueError(f"{label} is already declared in the privacy registry.")
        if erasure is Erasure.KEEP and not legal_reason:
            raise ValueError(f"{label}: keeping data after deletion needs a legal reason.")
        if erasure is not Erasure.DELETE and eraser is None:
            raise ValueError(f"{label}: {erasure} needs an eraser of its own.")
        if rows is not None and (exporter is None or eraser is None):
            raise ValueError(
                f"{label}: rows found without an owner path need their own exporter and eraser."
            )
        if exporter is not None and not schema:
            raise ValueError(f"{label}: an exporter of its own needs a schema of what it writes.")
        names = list(fields) if fields is not None else _concrete_field_names(model, owner)
        entry = Entry(
            model=model,
            category=category,
            purpose=purpose,
            owner=owner,
            exporter=exporter or _field_exporter(model, owner, names),
            erasure=erasure,
            eraser=eraser or _delete_eraser(model, owner),
            retention=retention,
            schema=schema or describe_fields(model, names),
            basis=basis,
            dated_by=dated_by,
            legal_reason=legal_reason,
            erasure_note=erasure_note,
            erase_first=erase_first,
            rows=rows,
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

    def rule(self, name: str, *, description: str, retention: Retention) -> Rule:
        """Declare a retention rule that is not about one person's rows."""
        if name in self.rules:
            raise ValueError(f"The retention rule {name!r} is already declared.")
        self.rules[name] = Rule(name, description, retention)
        return self.rules[name]

    def uploads(self, source: UploadSource) -> None:
        """Declare where to find the files a person uploaded, for their export."""
        self.upload_sources.append(source)

    def uploads_of(self, user: Any) -> Iterator[Upload]:
        """Yield every file `user` uploaded, from every declared source."""
        for source in self.upload_sources:
            yield from source(user)

    def consent(self, consent: Consent) -> None:
        """Declare a choice shown on the privacy dashboard."""
        if any(c.name == consent.name for c in self.consent_list):
            raise ValueError(f"The consent {consent.name!r} is already declared.")
        self.consent_list.append(consent)

    @property
    def consents(self) -> list[Consent]:
        return sorted(self.consent_list, key=lambda c: (c.position, c.name))

    def deletion_warnings(self, source: DeletionWarnings) -> None:
        """Declare what deleting an account does beyond its rows, shown before confirming."""
        self.deletion_warning_sources.append(source)

    def deletion_warnings_for(self, user: Any) -> list[DeletionWarning]:
        return [w for source in self.deletion_warning_sources for w in source(user)]

    def deletion_blockers_for(self, user: Any) -> list[DeletionWarning]:
        """What must be settled before `user`'s account can be deleted."""
        return [w for w in self.deletion_warnings_for(user) if w.blocks]

    def retention_rules(self) -> list[Entry | Rule]:
        """Every entry and standalone rule, in the order the sweep runs them."""
        return [*self, *sorted(self.rules.values(), key=lambda r: r.name)]

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


def describe_fields(model: type[models.Model], names: Iterable[str]) -> dict[str, str]:
    """Describe exported fields from the model: verbose name, help text, and ids as ids."""
    by_name = {f.attname: f for f in model._meta.concrete_fields} | {
        f.name: f for f in model._meta.concrete_fields
    }
    described = {}
    for name in names:
        f = by_name.get(name)
        if f is None:
            described[name] = name.replace("_", " ").capitalize()
            continue
        text = str(f.verbose_name).capitalize()
        if f.is_relation:
            text += f" (the id of the {f.related_model._meta.verbose_name})"  # type: ignore[union-attr]
        if f.help_text:
            text += f". {f.help_text}"
        if f.choices:
            text += ". One of: " + ", ".join(str(value) for value, _ in f.flatchoices)
        described[name] = text
    return described


def _field_exporter(model: type[models.Model], owner: str, names: list[str]) -> Exporter:
    def export(user: Any) -> Iterator[dict[str, Any]]:
        rows = model._default_manager.filter(**_owner_lookup(owner, user)).order_by("pk")
        return rows.values(*names).iterator(chunk_size=EXPORT_CHUNK)

    return export


def _delete_eraser(model: type[models.Model], owner: str) -> Eraser:
    def erase(user: Any) -> int:
        deleted, _ = model._default_manager.filter(**_owner_lookup(owner, user)).delete()
        return deleted

    return erase


registry = Registry()
register = registry.register
exempt = registry.exempt
rule = registry.rule
uploads = registry.uploads
consent = registry.consent
deletion_warnings = registry.deletion_warnings
