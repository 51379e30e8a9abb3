from django import forms

from accounts.models import User


class UserSearchForm(forms.Form):
    q = forms.CharField(label="Search by email", required=False, max_length=254)


class AddUserForm(forms.Form):
    """An administrator adds an account (any REGISTRATION mode); the service checks the rest."""

    email = forms.EmailField(label="Email", max_length=254)
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    role = forms.ChoiceField(label="Role", choices=User.Role.choices, initial=User.Role.USER)
