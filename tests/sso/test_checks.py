import pytest

from sso.checks import check_issuer_scheme


@pytest.mark.parametrize(
    ("issuer", "warned"),
    [
        ("", False),
        ("https://sso.example.com/realms/studio", False),
        ("http://127.0.0.1:8080/realms/studio", False),
        ("http://localhost:8080", False),
        ("http://sso.example.com/realms/studio", True),
    ],
)
def test_an_issuer_over_plain_http_elsewhere_is_warned_about(settings, issuer, warned):
    settings.OIDC_ISSUER = issuer
    assert [w.id for w in check_issuer_scheme()] == (["sso.W001"] if warned else [])


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OIDC_ISSUER": "https://sso.example.com"}, "OIDC_CLIENT_ID"),
        ({"OIDC_ISSUER": "https://sso.example.com", "OIDC_CLIENT_ID": "s", "OIDC_SCOPES": "email"}, "OIDC_SCOPES"),
        ({"OIDC_ADMIN_CLAIM": "groups"}, "OIDC_ADMIN_VALUE"),
    ],
)
def test_incomplete_single_sign_on_settings_stop_the_site_from_starting(env, named):
    from tests.conftest import run_manage

    result = run_manage("check", env=env)
    assert result.returncode != 0 and named in result.stderr


def test_complete_single_sign_on_settings_start():
    from tests.conftest import run_manage

    env = {"OIDC_ISSUER": "https://sso.example.com/realms/studio", "OIDC_CLIENT_ID": "studio"}
    result = run_manage("check", env=env)
    assert result.returncode == 0, result.stderr
