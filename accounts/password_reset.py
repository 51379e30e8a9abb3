"""Password reset by email with Django's own views (django.contrib.auth.views): a link with
a one-time token, mailed through EMAIL_URL's transport (the console by default). Asking is
throttled per client address and per email asked about; setting the new password goes
through accounts.services.user_update, so it ends every session as a password change does."""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import services
from accounts.throttles import PASSWORD_RESET_THROTTLES
from core.throttles import web_throttle_wait


class ResetRequestForm(auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class NewPasswordForm(auth_forms.SetPasswordForm):
    """Django's form (two fields, the password validators), saved by the accounts service:
    the token version goes up and refresh tokens are revoked, as on any password change."""

    def save(self, commit=True):
        return services.user_update(user=self.user, password=self.cleaned_data["new_password1"])


class ResetRequestView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = ResetRequestForm
    success_url = reverse_lazy("accounts:password-reset-sent")

    def post(self, request, *args, **kwargs):
        # Every request counts (each may send an email), the refused ones excepted.
        wait = web_throttle_wait(request, PASSWORD_RESET_THROTTLES)
        if wait:
            form = self.get_form()
            form.is_valid()
            form.add_error(None, f"Too many requests. Try again in {wait // 60 + 1} minutes.")
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)


urlpatterns = [
    path("password-reset/", ResetRequestView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password-reset-sent",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            form_class=NewPasswordForm,
            success_url=reverse_lazy("accounts:password-reset-complete"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password-reset-complete",
    ),
]
