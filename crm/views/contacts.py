"""A teacher's list of contacts: search, filters, sorting, pages, bulk tags and CSV export."""

import csv
from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from core.http import AuthedRequest, safe_next_path
from crm import selectors, services
from crm.forms import BulkTagForm
from crm.models import Contact
from crm.views.access import teacher_only

PER_PAGE = 50
EXPORT_CHUNK = 2000
EXPORT_COLUMNS = [
    "name",
    "email",
    "phone",
    "company",
    "status",
    "tags",
    "source",
    "first_seen",
    "last_activity",
]


@login_required
@require_safe
def contact_list(request: AuthedRequest) -> HttpResponse:
    """List everyone connected to the teacher, filtered, sorted and a page at a time."""
    teacher_only(request.user)
    filters = selectors.parse_filters(request.GET)
    contacts = selectors.contacts_for(request.user, filters)
    page = Paginator(contacts, PER_PAGE).get_page(request.GET.get("page"))
    rows = selectors.rows_for(list(page.object_list), request.user)
    query = filters.as_query()
    return render(
        request,
        "crm/contact_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "choices": selectors.filter_choices(request.user),
            "statuses": Contact.Status.choices,
            "sorts": selectors.SORT_LABELS,
            "no_source": selectors.NO_SOURCE,
            "query": urlencode(query),
            "filtered": bool(set(query) - {"sort"}),
            "export_url": reverse("crm:export") + (f"?{urlencode(query)}" if query else ""),
        },
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with these as a formula.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _export_rows(contacts: list[int]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for start in range(0, len(contacts), EXPORT_CHUNK):
        ids = contacts[start : start + EXPORT_CHUNK]
        chunk = {c.pk: c for c in Contact.objects.filter(pk__in=ids).prefetch_related("tags")}
        for pk in ids:
            c = chunk.get(pk)
            if c is None:
                continue
            yield writer.writerow(
                [
                    _cell(c.name),
                    _cell(c.email),
                    _cell(c.phone),
                    _cell(c.company),
                    c.get_status_display(),
                    _cell("|".join(sorted(t.name for t in c.tags.all()))),
                    _cell(c.source),
                    c.first_seen.isoformat(),
                    c.last_activity.isoformat() if c.last_activity else "",
                ]
            )


@login_required
@require_safe
def export_csv(request: AuthedRequest) -> StreamingHttpResponse:
    """Stream the filtered list as CSV, in the list's order, a chunk of rows at a time."""
    teacher_only(request.user)
    filters = selectors.parse_filters(request.GET)
    ids = list(selectors.contacts_for(request.user, filters).values_list("pk", flat=True))
    response = StreamingHttpResponse(_export_rows(ids), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def bulk_tag(request: AuthedRequest) -> HttpResponse:
    """Add a tag to, or take it off, the people selected on the list."""
    teacher_only(request.user)
    back = safe_next_path(request, request.POST.get("next")) or reverse("crm:list")
    form = BulkTagForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return render(request, "crm/problem.html", {"errors": errors, "back": back}, status=400)
    name = form.cleaned_data["tag"]
    add = form.cleaned_data["action"] == "add"
    if not Contact.objects.filter(teacher=request.user, pk__in=form.cleaned_data["ids"]).exists():
        raise Http404
    tag = services.tag_named(request.user, name)
    count = services.bulk_tag(
        teacher=request.user, contact_ids=form.cleaned_data["ids"], tag=tag, add=add
    )

    if add:
        messages.success(request, f"Tagged {count} {'person' if count == 1 else 'people'} “{tag}”.")
    else:
        messages.success(
            request, f"Took “{tag}” off {count} {'person' if count == 1 else 'people'}."
        )
    return redirect(back)
