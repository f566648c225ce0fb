from typing import Any

from django import forms

from onboarding.questions import QUESTIONS


class SurveyForm(forms.Form):
    """The survey for one role: every question optional, answers checked against its choices."""

    def __init__(self, *args: Any, role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role = role
        self.questions = QUESTIONS[role]
        for question in self.questions:
            field: forms.Field
            if question.many:
                field = forms.MultipleChoiceField(
                    choices=question.choices,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages={"invalid_choice": "Choose from the options shown."},
                )
            else:
                field = forms.ChoiceField(
                    choices=question.choices,
                    widget=forms.RadioSelect,
                    error_messages={"invalid_choice": "Choose one of the options shown."},
                )
            field.required = False
            field.label = question.text
            field.help_text = question.help_text
            self.fields[question.key] = field

    def answers(self) -> dict[str, list[str]]:
        """Return the chosen options by question key, leaving out unanswered questions."""
        chosen: dict[str, list[str]] = {}
        for question in self.questions:
            value = self.cleaned_data.get(question.key)
            values = list(value) if isinstance(value, list | tuple) else [value] if value else []
            if values:
                chosen[question.key] = values
        return chosen
