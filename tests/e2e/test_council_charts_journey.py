"""An officer reads the trends and the map in a real browser: every state is scanned with axe, including the SVG
charts and the map, and the charts draw under our Content-Security-Policy without a single blocked style.

Set E2E_SCREENSHOTS to a folder to also save full-page screenshots at desktop and phone widths.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, signed_in
from tests.engagement.test_chart_views import build_council, make_officer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIGURE = re.compile(r"^Figure:?$")
NEIGHBOURHOOD = re.compile(r"^Neighbourhood:?$")


def check(page, screenshot: str | None = None) -> None:
    check_page(page, screenshot and f"council-{screenshot}")


def test_an_officer_reads_trends_and_the_map(page, live_server):
    council, _areas = build_council(14)
    signed_in(page, live_server, make_officer(council))
    base = f"{live_server.url}/council/{council.slug}"

    page.goto(f"{base}/trends/")
    check(page, "trends")
    main = page.get_by_role("main")
    expect(main.get_by_role("img", name="Members each week in Caerwen")).to_be_visible()
    expect(main.get_by_role("img", name="Members by deprivation decile, latest figures")).to_be_visible()
    # The tables behind the charts open without JavaScript's help and pass the scan open too.
    for summary in main.locator("details > summary").all():
        summary.click()
    expect(main.get_by_role("table", name="Members each week in Caerwen: the figures")).to_be_visible()
    check(page)

    # One neighbourhood's connection rate.
    main.get_by_label(FIGURE).select_option(label="Connection rate")
    main.get_by_label(NEIGHBOURHOOD).select_option(label="Area 03")
    main.get_by_role("button", name="Show").click()
    expect(main.get_by_role("img", name="Connection rate each week in Area 03")).to_be_visible()
    check(page, "trends-area")

    # An address from nowhere: the page explains itself and shows members.
    page.goto(f"{base}/trends/?metric=nonsense")
    expect(page.get_by_role("alert")).to_contain_text("Choose one of the figures in the list.")
    expect(page.get_by_role("main")).to_contain_text("That figure is not one we publish")
    check(page)

    page.goto(f"{base}/map/")
    check(page, "map")
    main = page.get_by_role("main")
    expect(main.get_by_role("img", name="Members by neighbourhood in Caerwen")).to_be_visible()
    expect(main.get_by_role("heading", name="Not on the map")).to_be_visible()
    expect(main.get_by_role("table", name="Members by neighbourhood in Caerwen: the figures")).to_be_visible()
    main.get_by_label(FIGURE).select_option(label="Reach")
    main.get_by_role("button", name="Show").click()
    expect(main.get_by_role("img", name="Reach by neighbourhood in Caerwen")).to_be_visible()
    check(page, "map-reach")

    # The map scrolls sideways on a phone, by keyboard as well as by touch.
    page.set_viewport_size({"width": 360, "height": 800})
    region = main.get_by_role("region", name="Reach by neighbourhood in Caerwen", exact=True)
    region.focus()
    expect(region).to_be_focused()


def test_the_charts_draw_under_the_content_security_policy(strict_page, live_server):
    council, _areas = build_council(6)
    signed_in(strict_page, live_server, make_officer(council))
    refused = []
    strict_page.on(
        "console", lambda message: refused.append(message.text) if "Content Security" in message.text else None
    )
    for path in ("trends/", "trends/?metric=reach&area=area-01", "map/"):
        strict_page.goto(f"{live_server.url}/council/{council.slug}/{path}")
        expect(strict_page.locator("svg.chart").first).to_be_visible()
        # Drawn in our colours: the presentation attributes were applied, not blocked.
        fill = strict_page.locator("svg.chart path.chart__line, svg.chart path.chart__area").first.evaluate(
            "element => getComputedStyle(element).stroke"
        )
        assert fill not in ("none", "")
    assert refused == []
