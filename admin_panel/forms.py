from django import forms


class UserSearchForm(forms.Form):
    q = forms.CharField(label="Search by email", required=False, max_length=254)
