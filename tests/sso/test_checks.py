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
