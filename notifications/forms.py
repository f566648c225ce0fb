from typing import Any

from django import forms

from notifications.models import EmailMode, NotificationPreference

DIGEST_HOUR_CHOICES = [(hour, f"{hour:02d}:00") for hour in range(24)]


class PreferencesForm(forms.ModelForm):
    """How and when someone wants notification email."""

    email_mode = forms.ChoiceField(
        label="Email me about notifications",
        choices=EmailMode.choices,
        widget=forms.RadioSelect,
    )
    quiet_hours_start = forms.TimeField(
        label="Quiet from",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_hours_end = forms.TimeField(
        label="Quiet until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    digest_hour = forms.TypedChoiceField(
        label="Send the digest at",
        choices=DIGEST_HOUR_CHOICES,
        coerce=int,
        initial=8,
    )

    class Meta:
        model = NotificationPreference
        fields = ["email_mode", "quiet_hours_start", "quiet_hours_end", "digest_hour"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None):
            raise forms.ValidationError(
                "Give both ends of your quiet hours, or leave both empty to have none."
            )
        if start is not None and start == end:
            raise forms.ValidationError("Quiet hours need to start and end at different times.")
        return data


class MuteForm(forms.Form):
    muted = forms.TypedChoiceField(
        choices=[("1", "Mute"), ("0", "Unmute")], coerce=lambda v: v == "1"
    )
