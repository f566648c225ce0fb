from django import forms

from crm.models import Contact, ContactNote


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "phone", "company"]
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
        }


class NoteForm(forms.ModelForm):
    class Meta:
        model = ContactNote
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}
        labels = {"body": "Note"}
        error_messages = {"body": {"required": "Write something to keep."}}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something to keep.")
        return body


class TagForm(forms.Form):
    tag = forms.CharField(
        label="Tag",
        max_length=40,
        widget=forms.TextInput(attrs={"list": "crm-tag-names", "autocomplete": "off"}),
    )

    def clean_tag(self) -> str:
        tag = " ".join(self.cleaned_data["tag"].split())
        if not tag:
            raise forms.ValidationError("Give the tag a name.")
        return tag


class BulkTagForm(TagForm):
    action = forms.ChoiceField(choices=[("add", "Add tag"), ("remove", "Remove tag")])
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        ids = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        choices = [(i, i) for i in ids if str(i).isdigit()][:1000]
        self.fields["ids"].choices = choices  # type: ignore[attr-defined]
        self.fields["ids"].error_messages["required"] = "Select at least one person."


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="A header line naming the columns: email (required), name or first name and "
        "last name, phone, company, tags (separated by | or ;). Up to 5 MB.",
    )


class LeadForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    name = forms.CharField(label="Name", max_length=200, required=False)
    consent = forms.BooleanField(
        label="Email me once when this course opens",
        error_messages={"required": "Tick the box so we may email you when it opens."},
    )
    # A field people never see: bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")
