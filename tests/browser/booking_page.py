"""Driving the booking page in the browser tests: slots, the month calendar, a day offering slots."""

from datetime import date

from playwright.sync_api import expect


def slot(page, hours):
    """The slot button labelled `hours` (e.g. "09 h 00 – 10 h 00") in the day's list."""
    return page.locator("#slots").get_by_role("button", name=hours, exact=True)


def wait_for_calendar(page):
    expect(page.locator("table.month")).not_to_have_attribute("aria-busy", "true")


def open_day_offering(page, *hours):
    """Click the calendar's available days in order (next month if need be) until one offers all `hours`."""
    for _ in range(3):
        wait_for_calendar(page)
        days = page.locator(".month-days a.day.available")
        for i in range(days.count()):
            days.nth(i).click()
            expect(page.locator("#slots")).not_to_have_attribute("aria-busy", "true")
            if all(slot(page, h).count() for h in hours):
                return date.fromisoformat(days.nth(i).get_attribute("data-date"))
        page.locator(".month-next").click()
    raise AssertionError(f"no day offers {hours}")
