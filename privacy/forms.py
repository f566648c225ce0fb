from django import forms

from privacy.documents import PolicyDocument


class AcceptPoliciesForm(forms.Form):
    """One required checkbox per policy document awaiting acceptance."""

    def __init__(self, *args: object, docs: list[PolicyDocument], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.docs = docs
        for doc in docs:
            self.fields[f"accept_{doc.slug}"] = forms.BooleanField(
                required=True,
                label=f"I accept the {doc.title}",
                error_messages={"required": f"Please accept the {doc.title} to continue."},
            )


class ConsentsForm(forms.Form):
    """The choices a person can change from Settings → Privacy."""

    email_notifications = forms.BooleanField(
        label="Email me notifications",
        required=False,
        help_text="Announcements, grades, messages and reminders, by email as well as in Lectern.",
    )
    send_read_receipts = forms.BooleanField(
        label="Send read receipts",
        required=False,
        help_text="In direct messages and small groups, people see when you have read their "
        "message. Turned off, you don't send read receipts and don't see anyone's.",
    )
