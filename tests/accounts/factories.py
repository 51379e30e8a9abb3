"""The shared factories, with the password hashed once per test session.

Argon2 with Django's parameters costs ~0.1 s per hash; the accounts tests create hundreds
of users. Every user made here gets the same real Argon2 hash of DEFAULT_PASSWORD, so
logins still verify it with Argon2 — only the repeated hashing is saved.
"""
import functools

import factory
from django.contrib.auth.hashers import make_password

from tests import factories
from tests.factories import DEFAULT_PASSWORD

__all__ = ["AdminFactory", "DEFAULT_PASSWORD", "UserFactory"]


@functools.cache
def default_password_hash() -> str:
    return make_password(DEFAULT_PASSWORD)


class UserFactory(factories.UserFactory):
    password = factory.LazyFunction(default_password_hash)


class AdminFactory(UserFactory):
    role = factories.AdminFactory.role
