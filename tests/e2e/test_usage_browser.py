"""Usage charts in a real Chromium: /usage draws one bar per day with spend (and only the
signed-in user's), the admin's /admin-panel/usage draws everyone's; both under a
Content-Security-Policy of script-src 'self' (no inline script, the vendored Chart.js)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, AdminFactory, GenerationFactory, UserFactory, VideoJobFactory
from videos.models import VideoJob

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UTC = UTC
NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
CSP = "default-src 'self'; script-src 'self'; object-src 'none'"

READ_CHART = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  if (!chart) return null;
  const bars = chart.getDatasetMeta(0).data.filter((bar) => Math.abs(bar.height || bar.width) > 0.5
    && chart.data.datasets[0].data[chart.getDatasetMeta(0).data.indexOf(bar)] > 0);
  return {labels: chart.data.labels, data: chart.data.datasets[0].data, type: chart.config.type,
          drawn: bars.length};
}"""


@pytest.fixture
def frozen(monkeypatch):
    from usage import selectors

    monkeypatch.setattr(selectors, "now", lambda: NOW)


@pytest.fixture
def with_csp(page):
    """Every page of the site answered with a strict script-src, as production may."""

    def add_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": CSP}
        route.fulfill(response=response, headers=headers)

    page.route("**/usage*", add_csp)
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: violations.append(str(exc)))
    return violations


def spend_on(owner, day: datetime, cost: str, *, model="openai/gpt-4o-mini", video=False):
    if video:
        return VideoJobFactory(owner=owner, status=VideoJob.Status.COMPLETED, cost=Decimal(cost), now=day)
    return GenerationFactory(owner=owner, cost=Decimal(cost), created_at=day, model_id=model)


def test_usage_page_draws_one_bar_per_day_with_spend(page, login, frozen, with_csp):
    user = UserFactory(email="charts@example.com")
    other = UserFactory(email="someone-else@example.com")
    spend_on(user, NOW.replace(hour=0, minute=0, second=0), "0.50")  # today, first second
    spend_on(user, NOW - timedelta(days=3), "1.25", model="anthropic/claude-sonnet-4")
    spend_on(user, (NOW - timedelta(days=10)).replace(hour=23, minute=59, second=59), "2.00", video=True)
    spend_on(other, NOW - timedelta(days=5), "9.00")  # never on user's chart

    login(user.email, DEFAULT_PASSWORD)
    page.click("header >> text=Usage")
    page.wait_for_url("**/usage")
    expect(page.get_by_test_id("usage-today")).to_have_text("$0.50")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('usage-by-day'))")

    by_day = page.evaluate(READ_CHART, "usage-by-day")
    assert by_day["type"] == "bar" and len(by_day["labels"]) == 30 and by_day["labels"][-1] == "2026-03-15"
    with_spend = {label: value for label, value in zip(by_day["labels"], by_day["data"]) if value}
    assert with_spend == {"2026-03-05": 2.0, "2026-03-12": 1.25, "2026-03-15": 0.5}
    assert by_day["drawn"] == 3

    by_model = page.evaluate(READ_CHART, "usage-by-model")
    assert by_model["labels"] == [
        "google/veo-3.1 (video)",
        "anthropic/claude-sonnet-4 (text)",
        "openai/gpt-4o-mini (text)",
    ]
    assert by_model["data"] == [2.0, 1.25, 0.5] and by_model["drawn"] == 3
    assert with_csp == [], with_csp


def test_admin_usage_page_draws_everyones_days(page, login, frozen, with_csp):
    admin = AdminFactory(email="boss@example.com")
    for n, owner in enumerate((UserFactory(), UserFactory(), admin)):
        spend_on(owner, NOW - timedelta(days=n * 2), f"{n + 1}.00")

    login(admin.email, DEFAULT_PASSWORD)
    page.goto("/admin-panel/")
    page.get_by_test_id("admin-usage-link").click()
    page.wait_for_url("**/admin-panel/usage")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('usage-by-day'))")

    by_day = page.evaluate(READ_CHART, "usage-by-day")
    assert {label: v for label, v in zip(by_day["labels"], by_day["data"]) if v} == {
        "2026-03-15": 1.0,
        "2026-03-13": 2.0,
        "2026-03-11": 3.0,
    }
    assert by_day["drawn"] == 3
    expect(page.get_by_test_id("usage-users-table").locator("tr[data-email]")).to_have_count(3)

    page.fill("#usage-from", "2026-03-13")
    page.click("[data-testid=usage-range] button[type=submit]")
    page.wait_for_url("**/admin-panel/usage?from=2026-03-13*")
    page.wait_for_function("() => Chart.getChart(document.getElementById('usage-by-day'))")
    assert page.evaluate(READ_CHART, "usage-by-day")["labels"] == ["2026-03-13", "2026-03-14", "2026-03-15"]
    expect(page.get_by_test_id("usage-total")).to_have_text("$3.00")
    assert with_csp == [], with_csp
