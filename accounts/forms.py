from collections.abc import Iterable

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.selectors import email_is_taken
from accounts.services import EMAIL_TAKEN
from core.errors import InvalidInput


def add_service_errors(form: forms.Form, exc: InvalidInput, field_map: dict | None = None) -> None:
    """Show a service's InvalidInput next to the form's fields (renamed by `field_map`);
    errors for fields the form lacks go to the top of the form."""
    field_map = field_map or {}
    errors: Iterable[tuple[str | None, list[str]]] = exc.errors.items() if exc.errors else [(None, [exc.message])]
    for field, messages in errors:
        name = field_map.get(field, field)
        form.add_error(name if name in form.fields else None, messages)


class PasswordInput(forms.PasswordInput):
    def __init__(self, autocomplete: str):
        super().__init__(attrs={"autocomplete": autocomplete})


class LoginForm(forms.Form):
    # Named "username" as in Django's AuthenticationForm (and the browser tests' fixture).
    username = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(label="Password", strip=False, widget=PasswordInput("current-password"))


class RegisterForm(forms.Form):
    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=PasswordInput("new-password"),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_confirm = forms.CharField(label="Confirm password", strip=False, widget=PasswordInput("new-password"))

    def clean_email(self):
        # Checked here too (user_register checks again), so that it shows with other errors.
        email = self.cleaned_data["email"]
        if email_is_taken(email=email):
            raise ValidationError(EMAIL_TAKEN)
        return email

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_confirm") and data["password"] != data["password_confirm"]:
            self.add_error("password_confirm", "The two passwords differ.")
        if data.get("password") and "password" not in self.errors:
            # Checked here too (user_register checks again), so that a weak password shows
            # together with a taken email instead of only after the email is fixed.
            candidate = User(email=data.get("email") or self.data.get("email", ""))
            try:
                password_validation.validate_password(data["password"], user=candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class ProfileForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    new_password = forms.CharField(
        label="New password",
        required=False,
        strip=False,
        widget=PasswordInput("new-password"),
        help_text="Leave empty to keep your password.",
    )
    new_password_confirm = forms.CharField(
        label="Confirm new password", required=False, strip=False, widget=PasswordInput("new-password")
    )
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=PasswordInput("current-password"),
        help_text="Needed for any change.",
    )

    def clean(self):
        data = super().clean()
        if (data.get("new_password") or "") != (data.get("new_password_confirm") or ""):
            self.add_error("new_password_confirm", "The two passwords differ.")
        return data


class DefaultSystemForm(forms.Form):
    default_system = forms.CharField(
        label="Default instructions for new conversations",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the model before every message of a new conversation that has no instructions of its "
        "own (each conversation can change its own). Leave empty for none.",
    )


class ApiKeyForm(forms.Form):
    """A new personal API key: a name and, optionally, when it stops working."""

    name = forms.CharField(max_length=100, label="Key name", help_text="What the key is for, e.g. “laptop script”.")
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: the key works until you revoke it.",
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="or expires in (days)",
        help_text="Instead of a date: the key stops working this many days from now.",
    )
