"""core.changes.own_copy: what a request gets of a kept row is its own, as copy.copy's
copy was: changing it (or the related rows it carries) leaves the kept one as it was."""

from __future__ import annotations

import copy

import pytest

from accounts.api_keys import ApiKey, api_key_create
from core.changes import own_copy

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(user) -> ApiKey:
    api_key_create(user=user, name="kept")
    return ApiKey.objects.select_related("user").get()


def test_the_copy_has_the_same_values_and_related_rows(kept):
    mine = own_copy(kept)
    assert mine is not kept and mine.pk == kept.pk and mine.name == "kept"
    assert own_copy(None) is None  # as copy.copy: a kept absence (an unknown model) stays one
    assert mine.user is kept.user  # as copy.copy: the related row until the caller copies it
    assert mine._state is not kept._state and mine._state.db == kept._state.db and not mine._state.adding
    # copy.copy's pickling protocol also notes Django's version on the copy.
    skipped = {"_state", "_django_version"}
    assert {k: v for k, v in vars(mine).items() if k not in skipped} == {
        k: v for k, v in vars(copy.copy(kept)).items() if k not in skipped
    }


def test_changing_the_copy_leaves_the_kept_row_as_it_was(kept, other_user):
    email = kept.user.email
    mine = own_copy(kept)
    mine.name = "changed"
    mine.user = own_copy(kept.user)
    mine.user.email = "changed@example.com"
    assert kept.name == "kept" and kept.user.email == email

    mine.user = other_user  # its own cache of related rows
    assert mine.user.pk == other_user.pk and kept.user.pk != other_user.pk and kept.user_id != other_user.pk


def test_a_copy_saves_as_its_row(kept):
    mine = own_copy(kept)
    mine.name = "renamed"
    mine.save(update_fields=["name"])
    assert ApiKey.objects.get().name == "renamed" and ApiKey.objects.count() == 1
