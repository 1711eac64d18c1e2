"""Forms for the staff second factor."""

from __future__ import annotations

from django import forms


class TokenForm(forms.Form):
    """The six-digit code shown by the user's authenticator app."""

    token = forms.RegexField(
        label="Six-digit code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return str(self.cleaned_data["token"]).strip()
