"""What a student types to the course assistant."""

from django import forms

MAX_QUESTION_CHARS = 1000


class QuestionForm(forms.Form):
    """One question about the course, short enough to answer well and cheaply."""

    question = forms.CharField(
        label="Your question",
        max_length=MAX_QUESTION_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Up to 1,000 characters. Ask about anything this course covers.",
        error_messages={
            "required": "Write your question first.",
            "max_length": (
                "Keep your question to 1,000 characters or fewer (it has %(show_value)d); "
                "ask about one thing at a time."
            ),
        },
    )
