"""`check --deploy` sees what Django's own security checks miss for the project's middleware
subclasses (core/middleware.py): HSTS, the HTTPS redirect, nosniff, the CSRF cookie,
X-Frame-Options and the referrer policy; a proper HTTPS configuration reports nothing."""

import secrets

import pytest

from core.checks import check_security_settings
from tests.conftest import run_manage


def ids(messages) -> list[str]:
    return sorted(message.id for message in messages)


def https_settings(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SESSION_COOKIE_SECURE = True


def test_secure_cookies_without_https_warn_about_hsts_and_the_redirect(settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.CSRF_COOKIE_SECURE = False
    assert ids(check_security_settings()) == ["core.W004", "core.W008", "core.W016"]


def test_a_proper_https_configuration_is_clean(settings):
    https_settings(settings)
    assert check_security_settings() == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": False}, ["core.W005"]),
        ({"SECURE_HSTS_PRELOAD": False}, ["core.W021"]),
        ({"SECURE_CONTENT_TYPE_NOSNIFF": False}, ["core.W006"]),
        ({"X_FRAME_OPTIONS": "SAMEORIGIN"}, ["core.W019"]),
        ({"SECURE_REFERRER_POLICY": None}, ["core.W022"]),
        ({"SECURE_REFERRER_POLICY": "everywhere"}, ["core.E023"]),
        ({"SECURE_CROSS_ORIGIN_OPENER_POLICY": "open"}, ["core.E024"]),
        ({"CSRF_COOKIE_SECURE": False}, ["core.W016"]),
    ],
)
def test_each_setting_django_would_check_is_checked(settings, changes, expected):
    https_settings(settings)
    for name, value in changes.items():
        setattr(settings, name, value)
    assert ids(check_security_settings()) == expected


def test_with_djangos_own_middleware_listed_djangos_checks_speak_and_ours_stay_silent(settings):
    settings.MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    settings.SECURE_HSTS_SECONDS = 0
    assert check_security_settings() == []


def _check_deploy(tmp_path, env: dict) -> str:
    result = run_manage(
        "check",
        "--deploy",
        env={
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "studio.example.com",
            "DEBUG": "false",
            **env,
        },
    )
    return result.stdout + result.stderr


def test_check_deploy_reports_the_blind_spot_of_secure_cookies_without_https(tmp_path):
    output = _check_deploy(tmp_path, {"SESSION_COOKIE_SECURE": "true", "HTTPS": ""})
    assert "(core.W004)" in output and "(core.W008)" in output and "(core.W016)" in output


def test_check_deploy_with_https_and_the_documented_settings_reports_nothing(tmp_path):
    output = _check_deploy(tmp_path, {"HTTPS": "true"})
    assert "System check identified no issues" in output, output
