"""Moved to tests/support/accounts.py; kept so older imports still work."""

from tests.support.accounts import STRONG_PASSWORD, bearer_client, login_pair, run_at_once  # noqa: F401
