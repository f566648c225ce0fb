"""One contact's page: details, tags, private notes, courses and payments."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.http import AuthedRequest
from crm import selectors, services
from crm.forms import ContactForm, NoteForm, TagForm
from crm.models import Tag
from crm.views.access import get_contact_for_teacher, get_note_for_teacher


def _page(
    request: AuthedRequest, contact_id: int, status: int = 200, **forms: object
) -> HttpResponse:
    contact = get_contact_for_teacher(request.user, contact_id)
    story = selectors.story_of(contact, request.user)
    context = {
        "story": story,
        "contact": contact,
        "note_form": forms.get("note_form") or NoteForm(),
        "tag_form": forms.get("tag_form") or TagForm(),
    }
    return render(request, "crm/contact_detail.html", context, status=status)


@login_required
@require_safe
def contact_detail(request: AuthedRequest, contact_id: int) -> HttpResponse:
    return _page(request, contact_id)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: AuthedRequest, contact_id: int) -> HttpResponse:
    """Change what the teacher keeps about a person: name, phone, company."""
    contact = get_contact_for_teacher(request.user, contact_id)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Saved.")
            return redirect(contact)
        return render(
            request, "crm/contact_edit.html", {"form": form, "contact": contact}, status=400
        )
    return render(request, "crm/contact_edit.html", {"form": form, "contact": contact})


@login_required
@require_POST
def contact_tags(request: AuthedRequest, contact_id: int) -> HttpResponse:
    """Add a tag to one person (by name), or remove one (by id)."""
    contact = get_contact_for_teacher(request.user, contact_id)
    remove = request.POST.get("remove", "")
    if remove:
        tag = Tag.objects.filter(teacher=request.user, pk=remove if remove.isdigit() else 0).first()
        if tag is not None:
            contact.tags.remove(tag)
        return redirect(contact)
    form = TagForm(request.POST)
    if not form.is_valid():
        return _page(request, contact_id, status=400, tag_form=form)
    contact.tags.add(services.tag_named(request.user, form.cleaned_data["tag"]))
    return redirect(contact)


@login_required
@require_POST
def note_add(request: AuthedRequest, contact_id: int) -> HttpResponse:
    contact = get_contact_for_teacher(request.user, contact_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _page(request, contact_id, status=400, note_form=form)
    services.add_note(contact=contact, body=form.cleaned_data["body"])
    messages.success(request, "Note kept.")
    return redirect(contact)


@login_required
@require_http_methods(["GET", "POST"])
def note_edit(request: AuthedRequest, contact_id: int, note_id: int) -> HttpResponse:
    note = get_note_for_teacher(request.user, contact_id, note_id)
    form = NoteForm(request.POST or None, instance=note)
    context = {"form": form, "note": note, "contact": note.contact}
    if request.method == "POST":
        if form.is_valid():
            services.edit_note(note=note, body=form.cleaned_data["body"])
            messages.success(request, "Note saved.")
            return redirect(note.contact)
        return render(request, "crm/note_edit.html", context, status=400)
    return render(request, "crm/note_edit.html", context)


@login_required
@require_POST
def note_delete(request: AuthedRequest, contact_id: int, note_id: int) -> HttpResponse:
    note = get_note_for_teacher(request.user, contact_id, note_id)
    contact = note.contact
    note.delete()
    messages.success(request, "Note deleted.")
    return redirect(contact)
