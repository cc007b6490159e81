"""Pages without JavaScript, hostile text in tickets, and the consent notice, in a real
browser against the real services."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

PASSWORD = "quiet lantern orbit 42"
XSS_SUBJECT = '<img src=x onerror="window.__pwned=1"> Printer <b>broken</b>'
XSS_BODY = '<script>window.__pwned=2</script>"><svg onload="window.__pwned=3">'


def label(text: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(text) + r"\s*\*?$")


async def _member(stack: Any, context: Any, pid: str, host: str, slug: str) -> Any:
    """Contact c1 invited, activated through its email link, logged in; → the page."""
    await stack.invite(pid, "c1")
    link = await stack.link_to("eve@acme.example")
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_label(label("New password")).fill(PASSWORD)
    await page.get_by_label(label("Repeat the new password")).fill(PASSWORD)
    await page.get_by_role("button", name="Save password and log in").click()
    await expect(page).to_have_url(stack.url(host, f"/{slug}/"))
    return page


async def test_login_and_ticket_list_work_without_javascript(
    stack: Any, browser_context: Any
) -> None:
    host = "localhost"
    pid = await stack.portal(host, "en", "nojs", "Plain Help")
    crm = stack.crm
    await stack.ingest(
        crm.contact("c1", "eve@acme.example", firstname="Eve"),
        *[crm.ticket(f"t{i}", f"Question number {i:02d}", hours_ago=i) for i in range(1, 24)],
        *[crm.link(f"t{i}", contact="c1") for i in range(1, 24)],
    )
    await _member(stack, await browser_context(), pid, host, "nojs")

    context = await browser_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(stack.url(host, "/nojs/"))
    await expect(page).to_have_url(stack.url(host, "/nojs/login"))
    await page.get_by_label(label("Email address")).fill("eve@acme.example")
    await page.get_by_label(label("Password")).fill("wrong password here")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not correct")
    await page.get_by_label(label("Password")).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Your tickets")).to_be_visible()
    items = page.locator(".ticket-item")
    await expect(items).to_have_count(20)
    await expect(items.first).to_contain_text("Question number 01")
    await page.get_by_role("link", name="Next page").click()
    await expect(items).to_have_count(3)
    await expect(items.last).to_contain_text("Question number 23")
    await page.get_by_role("link", name="First page").click()
    await expect(items).to_have_count(20)
    await page.get_by_label(label("Sort by")).select_option("created_at")
    await page.get_by_role("button", name="Search").click()
    await expect(items.first).to_contain_text("Question number 23")
    await page.get_by_label(label("Search")).fill("number 07")
    await page.get_by_role("button", name="Search").click()
    await expect(items).to_have_count(1)
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_text("You have been logged out.")).to_be_visible()


async def test_hostile_text_in_tickets_renders_as_text(stack: Any, browser_context: Any) -> None:
    host = "localhost"
    pid = await stack.portal(host, "en", "xss", "Safe Help")
    crm = stack.crm
    await stack.ingest(
        crm.contact("c1", "eve@acme.example", firstname='Eve <i>"x"</i>'),
        crm.ticket("t1", XSS_SUBJECT),
        crm.link("t1", contact="c1"),
        crm.message("t1", XSS_BODY, name="<b>Agent</b>"),
    )
    context = await browser_context()
    page = await _member(stack, context, pid, host, "xss")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await expect(page.locator(".ticket-subject")).to_have_text(XSS_SUBJECT)
    await page.locator(".ticket-subject").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(XSS_SUBJECT)
    await expect(page.locator(".message-body").first).to_have_text(XSS_BODY)
    await expect(page.locator(".message-author").first).to_have_text("<b>Agent</b>")
    await page.get_by_label(label("Your message")).fill(XSS_BODY)
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator(".message-body")).to_have_count(2)
    await expect(page.locator(".message-body").last).to_have_text(XSS_BODY)
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("img[src=x], svg, b, i").count() == 0
    assert dialogs == []
    await page.goto(stack.url(host, "/xss/tickets/new"))
    await page.get_by_label(label("Subject")).fill(XSS_SUBJECT)
    await page.get_by_label(label("Description")).fill(XSS_BODY)
    await page.get_by_role("button", name="Create ticket").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(XSS_SUBJECT)
    assert await page.evaluate("window.__pwned") is None
    response = await page.request.get(stack.url(host, "/xss/"))
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


async def test_consent_notice_is_shown_until_answered(
    stack: Any, browser_context: Any, shots: Any
) -> None:
    host = "localhost"
    notice = "We use cookies to keep you logged in. <b>No</b> tracking."
    await stack.portal(
        host, "en", "consent", "Consent Help", consent_notice={"enabled": True, "text": notice}
    )
    context = await browser_context()
    page = await context.new_page()
    await page.goto(stack.url(host, "/consent/login"))
    banner = page.get_by_role("region", name="Privacy notice")
    await expect(banner).to_contain_text(notice)
    await shots.take(page, "consent")
    await page.goto(stack.url(host, "/consent/register"))
    await expect(banner).to_be_visible()
    await page.get_by_role("button", name="Accept").click()
    await expect(page).to_have_url(stack.url(host, "/consent/register"))
    await expect(banner).to_have_count(0)
    await page.reload()
    await expect(banner).to_have_count(0)
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["portal_consent"]["value"] == "accepted"
    assert cookies["portal_consent"]["path"] == "/consent/"

    other = await browser_context(java_script_enabled=False)
    page = await other.new_page()
    await page.goto(stack.url(host, "/consent/login"))
    await page.get_by_role("button", name="Decline").click()
    await expect(page.get_by_role("region", name="Privacy notice")).to_have_count(0)
    assert {c["name"]: c["value"] for c in await other.cookies()}["portal_consent"] == "declined"
