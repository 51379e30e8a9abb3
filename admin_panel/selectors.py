"""The admin stats, collected from every app that contributes counts.

Apps register a zero-argument callable returning a JSON-serialisable dict per section
(`core.sections.register_admin_stats`, in their AppConfig.ready()). The "" section is
merged at the top level (accounts: users, admins, active_users, active_refresh_tokens);
every other section is nested under its name ({"generations": {...}, "videos": {...}}).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from core.sections import admin_stats_providers


def admin_stats() -> dict:
    stats: dict = {}
    for section, provider in admin_stats_providers().items():
        values = provider()
        if section:
            values = {section: values}
        clash = stats.keys() & values.keys()
        if clash:
            raise ImproperlyConfigured(f"admin stats: section {section!r} repeats {sorted(clash)}")
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
        rows: list[tuple[str, object]] = []
        for sub_key, sub_value in value.items():
            if isinstance(sub_value, dict):
                rows.extend((f"{label(sub_key)}: {k}", v) for k, v in sub_value.items())
            else:
                rows.append((label(sub_key), sub_value))
        sections.append((label(key), rows))
    return sections
