"""The two-factor services: enrolment, codes used once, recovery codes used once, the
sealed secret, turning it off, an administrator's reset, the policy and the audit trail."""

import pyotp
import pytest

from audit.models import AuditEntry
from core.errors import Conflict, InvalidInput, NotFound
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.threads import run_at_once
from tests.support.two_factor import code_for, enrol
from twofactor import sealing, services
from twofactor.models import RecoveryCode, TotpDevice

pytestmark = pytest.mark.django_db


def test_enrolment_needs_a_right_code_and_answers_ten_recovery_codes():
    user = UserFactory()
    enrolment = services.enrolment_start(user=user)
    assert not services.is_enrolled(user)
    with pytest.raises(InvalidInput) as wrong:
        services.enrolment_confirm(user=user, code="000000" if code_for(enrolment.secret) != "000000" else "111111")
    assert wrong.value.field == "code"
    assert not services.is_enrolled(user)
    codes = services.enrolment_confirm(user=user, code=code_for(enrolment.secret))
    assert services.is_enrolled(user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)
    assert services.recovery_codes_left(user) == 10
    with pytest.raises(Conflict):
        services.enrolment_start(user=user)


def test_the_secret_and_recovery_codes_are_not_readable_from_the_database(settings):
    user = UserFactory()
    secret, codes = enrol(user)
    device = TotpDevice.objects.get(user=user)
    assert secret not in device.secret_sealed
    assert pyotp.TOTP(secret).byte_secret() not in device.secret_sealed.encode()
    stored = set(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert not any(code.replace("-", "") in digest for code in codes for digest in stored)
    # Another key (a copy of the database elsewhere) reads nothing.
    settings.TWO_FACTOR_KEY = "another key"
    with pytest.raises(sealing.SecretUnreadable):
        sealing.unseal(device.secret_sealed)


def test_a_changed_sealed_secret_is_refused():
    sealed = sealing.seal(b"JBSWY3DPEHPK3PXP")
    assert sealing.unseal(sealed) == b"JBSWY3DPEHPK3PXP"
    raw = bytearray(sealed.encode())
    raw[10] = ord("A") if raw[10] != ord("A") else ord("B")
    with pytest.raises(sealing.SecretUnreadable):
        sealing.unseal(raw.decode())


def test_the_pending_enrolment_shows_the_same_key_until_confirmed_and_never_after():
    user = UserFactory()
    started = services.enrolment_start(user=user)
    assert services.enrolment_pending(user=user) == started
    services.enrolment_confirm(user=user, code=code_for(started.secret))
    assert services.enrolment_pending(user=user) is None


def test_a_code_is_accepted_once_within_its_step():
    user = UserFactory()
    secret, _ = enrol(user)
    code = code_for(secret)
    assert services.verify(user=user, code=code) == "totp"
    with pytest.raises(services.CodeAlreadyUsed):
        services.verify(user=user, code=code)
    # An earlier step's code is refused once a later one was used.
    with pytest.raises(services.InvalidCode):
        services.verify(user=user, code=code_for(secret, steps=-1))
    # The next step's code (a phone's clock a little ahead) still works.
    assert services.verify(user=user, code=code_for(secret, steps=1)) == "totp"


def test_codes_far_from_now_and_wrong_codes_are_refused():
    user = UserFactory()
    secret, _ = enrol(user)
    for code in (code_for(secret, steps=3), code_for(secret, steps=-3), "12345", "abcdef", ""):
        if code in (code_for(secret), code_for(secret, steps=1)):
            continue  # the same six digits by chance
        with pytest.raises(services.InvalidCode):
            services.verify(user=user, code=code)


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_uses_of_one_code_exactly_one_wins():
    user = UserFactory()
    secret, _ = enrol(user)
    code = code_for(secret)

    def use():
        try:
            return services.verify(user=user, code=code)
        except services.InvalidCode:
            return "refused"

    results = run_at_once(use, use)
    assert sorted(results) == ["refused", "totp"]


def test_a_recovery_code_works_once_and_is_audited():
    user = UserFactory()
    _, codes = enrol(user)
    assert services.verify(user=user, code=codes[0].upper()) == "recovery"
    assert services.recovery_codes_left(user) == 9
    with pytest.raises(services.InvalidCode):
        services.verify(user=user, code=codes[0])
    # Without dashes or with spaces, as people type them.
    assert services.verify(user=user, code=codes[1].replace("-", " ")) == "recovery"
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.TWO_FACTOR_RECOVERY_CODE_USED, target_id=str(user.pk))
    assert entries.count() == 2
    assert entries.first().after == {"recovery_codes_left": 8}


def test_renewing_recovery_codes_needs_the_password_or_a_code_and_ends_the_old_ones():
    user = UserFactory()
    secret, old = enrol(user)
    with pytest.raises(InvalidInput) as refused:
        services.recovery_codes_regenerate(user=user, password="wrong")
    assert refused.value.field == "password"
    with pytest.raises(InvalidInput):
        services.recovery_codes_regenerate(user=user)
    new = services.recovery_codes_regenerate(user=user, code=code_for(secret))
    assert set(new).isdisjoint(old)
    with pytest.raises(services.InvalidCode):
        services.verify(user=user, code=old[0])
    assert services.verify(user=user, code=new[0]) == "recovery"


def test_disabling_needs_the_password_or_a_code():
    user = UserFactory()
    enrol(user)
    with pytest.raises(InvalidInput) as refused:
        services.disable(user=user, code="000000")
    assert refused.value.field == "code"
    assert services.is_enrolled(user)
    services.disable(user=user, password=DEFAULT_PASSWORD)
    assert not services.is_enrolled(user)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TWO_FACTOR_DISABLED, target_id=str(user.pk)).count() == 1
    with pytest.raises(services.NotEnrolled):
        services.disable(user=user, password=DEFAULT_PASSWORD)


def test_an_administrator_resets_a_second_factor_and_it_is_audited():
    admin, user = AdminFactory(), UserFactory()
    enrol(user)
    services.reset(user_id=user.pk, by=admin)
    assert not services.is_enrolled(user)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.TWO_FACTOR_RESET)
    assert (entry.actor_id, entry.target_id) == (admin.pk, str(user.pk))
    with pytest.raises(services.NotEnrolled):
        services.reset(user_id=user.pk, by=admin)
    with pytest.raises(NotFound):
        services.reset(user_id=user.pk + 1000, by=admin)


def test_enrolment_is_audited():
    user = UserFactory()
    enrol(user)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.TWO_FACTOR_ENABLED)
    assert entry.target_id == str(user.pk)


def test_the_policy_falls_back_to_the_environment_and_covers_whom_it_says(settings):
    settings.TWO_FACTOR_REQUIRED = "admins"
    admin, user = AdminFactory(), UserFactory()
    assert services.policy() == "admins"
    assert services.is_required_for(admin) and not services.is_required_for(user)
    services.policy_set(required="everyone", by=admin)
    assert services.is_required_for(user)
    services.policy_set(required="none", by=admin)
    assert not services.is_required_for(admin)
    with pytest.raises(InvalidInput) as bad:
        services.policy_set(required="some", by=admin)
    assert bad.value.field == "required"
    changes = AuditEntry.objects.filter(action=AuditEntry.Action.TWO_FACTOR_POLICY_CHANGED).order_by("id")
    assert [entry.after["required"] for entry in changes] == ["everyone", "none"]


def test_a_challenge_completes_once_and_ends_with_the_sessions():
    from accounts import tokens

    user = UserFactory()
    secret, _ = enrol(user)
    token, _ = services.challenge_issue(user=user)
    with pytest.raises(services.InvalidCode):
        services.challenge_complete(token=token, code=code_for(secret, steps=5))
    assert services.challenge_complete(token=token, code=code_for(secret)) == user
    with pytest.raises(services.ChallengeNotValid):
        services.challenge_complete(token=token, code=code_for(secret, steps=1))
    # Ending every session (password change, log out everywhere) ends open challenges.
    token, _ = services.challenge_issue(user=user)
    tokens.user_sessions_end(user=user)
    with pytest.raises(services.ChallengeNotValid):
        services.challenge_user(token=token)


def test_an_expired_challenge_is_refused(settings):
    settings.TWO_FACTOR_CHALLENGE_SECONDS = -1
    user = UserFactory()
    secret, _ = enrol(user)
    token, _ = services.challenge_issue(user=user)
    with pytest.raises(services.ChallengeNotValid):
        services.challenge_complete(token=token, code=code_for(secret))


def test_starting_again_replaces_the_unconfirmed_key():
    user = UserFactory()
    first = services.enrolment_start(user=user)
    second = services.enrolment_start(user=user)
    assert first.secret != second.secret
    assert services.enrolment_pending(user=user) == second
    assert TotpDevice.objects.filter(user=user).count() == 1
    with pytest.raises(InvalidInput):
        services.enrolment_confirm(user=user, code=code_for(first.secret))
    services.enrolment_confirm(user=user, code=code_for(second.secret))
    assert services.is_enrolled(user)


def test_it_cannot_be_turned_off_while_the_policy_requires_it(settings):
    settings.TWO_FACTOR_REQUIRED = "everyone"
    user = UserFactory()
    enrol(user)
    with pytest.raises(services.RequiredByPolicy):
        services.disable(user=user, password=DEFAULT_PASSWORD)
    assert services.is_enrolled(user)
