"""The admin stats, collected from every app that contributes counts.

settings.ADMIN_STATS_PROVIDERS maps a section name to the dotted path of a zero-argument
callable returning a JSON-serialisable dict. The "" section is merged at the top level
(accounts: users, admins, active_users, active_refresh_tokens); every other section is
nested under its name ({"generations": {...}, "videos": {...}}). A provider whose module
or function does not exist (an app not installed or not written yet) is skipped.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def _provider(path: str):
    try:
        return import_string(path)
    except ImportError:
        logger.debug("admin stats provider %s is not available; skipped", path)
        return None


def admin_stats() -> dict:
    stats: dict = {}
    for section, path in getattr(settings, "ADMIN_STATS_PROVIDERS", {}).items():
        provider = _provider(path)
        if provider is None:
            continue
        values = provider()
        if section:
            values = {section: values}
        clash = stats.keys() & values.keys()
        if clash:
            raise ImproperlyConfigured(f"ADMIN_STATS_PROVIDERS: {path} repeats {sorted(clash)}")
        stats.update(values)
    return stats


def stats_for_display(stats: dict) -> list[tuple[str, list[tuple[str, object]]]]:
    """(section title, [(label, value)]) for the admin page; nested dicts are flattened
    one level deeper into "by kind: text" style labels."""
    def label(key: str) -> str:
        return key.replace("_", " ").capitalize()

    top = [(label(k), v) for k, v in stats.items() if not isinstance(v, dict)]
    sections = [("Accounts", top)] if top else []
    for key, value in stats.items():
        if not isinstance(value, dict):
            continue
        rows = []
        for sub_key, sub_value in value.items():
            if isinstance(sub_value, dict):
                rows.extend((f"{label(sub_key)}: {k}", v) for k, v in sub_value.items())
            else:
                rows.append((label(sub_key), sub_value))
        sections.append((label(key), rows))
    return sections
