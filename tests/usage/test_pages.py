"""The usage pages render their figures, the chart data (json_script) and the vendored library."""

import json
import re

import pytest

from tests.factories import AdminFactory

from .conftest import at

pytestmark = pytest.mark.django_db


def chart_data(html: str) -> dict:
    match = re.search(r'<script id="usage-chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no chart data on the page"
    return json.loads(match.group(1))


def test_the_usage_page_gives_the_charts_their_data_without_inline_script(frozen, client, user, spend):
    spend(user, "text", "0.5", at("2026-03-15", "01:00:00"))
    spend(user, "video", "2", at("2026-03-10", "01:00:00"))
    client.force_login(user)

    html = client.get("/usage").content.decode()

    data = chart_data(html)
    assert len(data["days"]) == 30 and data["days"][-1] == "2026-03-15"
    assert {d: c for d, c in zip(data["days"], data["day_costs"]) if c} == {"2026-03-10": 2.0, "2026-03-15": 0.5}
    assert data["models"] == ["google/veo-3.1 (video)", "openai/gpt-4o-mini (text)"]
    assert data["model_costs"] == [2.0, 0.5]
    assert "/static/vendor/chart.umd.js" in html and "/static/js/usage-charts.js" in html
    assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>", html), "no inline script"
    assert 'data-testid="usage-today">$0.50<' in html
    assert "no daily budget" in html


def test_the_admin_usage_page_range_users_and_csv_link(frozen, client, user, spend):
    spend(user, "image", "1", at("2026-03-02", "01:00:00"))
    client.force_login(AdminFactory())

    html = client.get("/admin-panel/usage?from=2026-03-01&to=2026-03-03").content.decode()

    assert chart_data(html)["days"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert f'data-email="{user.email}"' in html
    assert 'href="/api/admin/usage?from=2026-03-01&amp;to=2026-03-03&amp;format=csv"' in html


def test_the_admin_usage_page_names_a_bad_date(frozen, client):
    client.force_login(AdminFactory())
    response = client.get("/admin-panel/usage?from=junk")
    assert response.status_code == 400
    assert "From: Enter a date as YYYY-MM-DD" in response.content.decode()


def test_the_vendored_chart_library_is_served(client):
    response = client.get("/static/vendor/chart.umd.js")
    assert response.status_code == 200
    assert b"Chart.js v4.6.1" in b"".join(response.streaming_content)[:200]


def test_the_nav_links_to_the_usage_page(client, user):
    client.force_login(user)
    assert 'href="/usage"' in client.get("/").content.decode()
