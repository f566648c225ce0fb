from typing import Any

from django import forms

from privacy.documents import PolicyDocument
from privacy.registry import Consent, registry


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
    """The choices a person can change from Settings → Privacy, one per declared consent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consents = registry.consents
        for consent in self.consents:
            self.fields[consent.name] = forms.BooleanField(
                label=consent.label, required=False, help_text=consent.help_text
            )

    def choices(self) -> list[tuple[Consent, forms.BoundField]]:
        """Return each declared consent with its checkbox, in the order the page shows them."""
        return [(consent, self[consent.name]) for consent in self.consents]
