"""A teacher's contacts, and the storefront's “Tell me when it opens”."""

from django.urls import path

from crm.views import contacts, importing, leads, person

app_name = "crm"

urlpatterns = [
    path("teach/contacts/", contacts.contact_list, name="list"),
    path("teach/contacts/export.csv", contacts.export_csv, name="export"),
    path("teach/contacts/bulk-tag/", contacts.bulk_tag, name="bulk_tag"),
    path("teach/contacts/import/", importing.import_upload, name="import"),
    path("teach/contacts/import/confirm/", importing.import_confirm, name="import_confirm"),
    path("teach/contacts/<id:contact_id>/", person.contact_detail, name="contact"),
    path("teach/contacts/<id:contact_id>/edit/", person.contact_edit, name="contact_edit"),
    path("teach/contacts/<id:contact_id>/tags/", person.contact_tags, name="contact_tags"),
    path("teach/contacts/<id:contact_id>/notes/", person.note_add, name="note_add"),
    path(
        "teach/contacts/<id:contact_id>/notes/<id:note_id>/edit/",
        person.note_edit,
        name="note_edit",
    ),
    path(
        "teach/contacts/<id:contact_id>/notes/<id:note_id>/delete/",
        person.note_delete,
        name="note_delete",
    ),
    path("c/<slug:slug>/notify-me/", leads.notify_me, name="notify_me"),
    path("opening-emails/<slug:token>/unsubscribe/", leads.unsubscribe, name="unsubscribe"),
]
