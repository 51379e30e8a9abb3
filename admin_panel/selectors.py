"""The admin stats, collected from every app that contributes counts.

Apps register a zero-argument callable returning a JSON-serialisable dict per section
(`core.sections.register_admin_stats`, in their AppConfig.ready()). The "" section is
merged at the top level (accounts: users, admins, active_users, active_refresh_tokens);
every other section is nested under its name ({"generations": {...}, "videos": {...}}).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from core.sections import admin_stats_providers
from core.templatetags.studio import money


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


# Words an administrator reads instead of the API's keys; values named here are money.
LABELS = {
    "active_refresh_tokens": "Signed-in API sessions",
    "total_tokens": "Tokens",
    "total_cost": "Cost",
    "label": "Key name",
    "usage": "Credit used",
    "limit": "Credit limit",
    "limit_remaining": "Credit left",
    "is_free_tier": "Free tier",
    "all_time": "All time",
    "this_month": "This month (UTC)",
    "today": "Today (UTC)",
}
SECTION_TITLES = {"provider_key": "Provider key (OpenRouter)", "spend": "Spend (generations and videos)"}
MONEY = {"total_cost", "usage", "limit", "limit_remaining"}


def _shown(key: str, value, section: str = ""):
    """A value as a person reads it: yes/no, dollars, "none"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if key in MONEY or section == "spend":
        return money(value)
    return value


def stats_for_display(stats: dict) -> list[tuple[str, list[tuple[str, object, str]]]]:
    """(section title, [(label, value, slug)]) for the admin page; nested dicts are flattened
    one level deeper into "By kind: text" style labels. The slug names the row for tests and
    stays the key's own (``by-status-failed``) whatever the label says."""

    def label(key: str) -> str:
        return LABELS.get(key) or key.replace("_", " ").capitalize()

    def slug(key: str) -> str:
        return key.replace("_", " ").strip().lower().replace(" ", "-").replace(":", "")

    top = [(label(k), _shown(k, v), slug(k)) for k, v in stats.items() if not isinstance(v, dict)]
    sections = [("Accounts", top)] if top else []
    for key, value in stats.items():
        if not isinstance(value, dict):
            continue
        rows: list[tuple[str, object, str]] = []
        for sub_key, sub_value in value.items():
            if isinstance(sub_value, dict):
                rows.extend(
                    (f"{label(sub_key)}: {k}", _shown(k, v, key), slug(f"{sub_key} {k}")) for k, v in sub_value.items()
                )
            else:
                rows.append((label(sub_key), _shown(sub_key, sub_value, key), slug(sub_key)))
        sections.append((SECTION_TITLES.get(key) or label(key), rows))
    return sections
