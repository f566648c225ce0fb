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
