"""Two tabs finishing the same first sign-in at the same moment: one account, one link."""

import pytest

from tests.support.threads import run_at_once


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("existing", [False, True])
def test_concurrent_first_sign_ins_make_one_account_and_one_link(settings, existing):
    from accounts.models import User
    from sso import services
    from sso.models import Identity
    from tests.factories import UserFactory

    settings.REGISTRATION = "open"
    if existing:
        UserFactory(email="tabs@example.com")
    claims = services.ProviderClaims(
        issuer="http://idp.test",
        subject="s-1",
        email="tabs@example.com",
        email_verified=True,
        groups=None,
        is_admin=None,
    )
    results = run_at_once(*[lambda: services.sign_in(claims=claims)] * 4)
    users = {r.pk for r in results if isinstance(r, User)}
    errors = [r for r in results if not isinstance(r, User)]
    assert len(users) == 1, errors
    assert not errors, errors
    assert User.objects.filter(email="tabs@example.com").count() == 1
    assert Identity.objects.filter(subject="s-1").count() == 1
