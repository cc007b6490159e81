"""The customer's whole journey in a real browser, in English and in Portuguese: the
invitation email → activate (password rules) → ticket list → ticket → reply → new ticket →
close → log out → log in → forgotten password."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

FORM = {
    "enabled": True,
    "fields": [
        {"name": "order_number", "label": "Order number", "type": "text", "required": True},
        {
            "name": "product",
            "label": "Product",
            "type": "select",
            "options": ["Router X1", "Switch S8"],
            "required": True,
        },
        {"name": "copy_to", "label": "Also inform (email)", "type": "email"},
        {"name": "steps", "label": "Steps to reproduce", "type": "textarea"},
    ],
}


def label(text: str) -> re.Pattern[str]:
    """A form label, with or without its required-field marker."""
    return re.compile("^" + re.escape(text) + r"\s*\*?$")


PASSWORD = "quiet lantern orbit 42"
DISPLAY = {
    "status_labels": {"new": "Received", "waiting": "Waiting for you"},
    "properties": ["order_number", "product"],
    "allow_close": True,
}


async def _seed(stack: Any, email: str, name: str) -> None:
    crm = stack.crm
    await stack.ingest(
        crm.company("co1", "Acme Corp"),
        crm.contact("c1", email, firstname=name, lastname="Lima", primary_company_id="co1"),
        crm.ticket(
            "t1",
            "Router keeps rebooting",
            hours_ago=30,
            properties={"order_number": "A-1043", "product": "Router X1"},
        ),
        crm.link("t1", contact="c1"),
        crm.message(
            "t1", "Hello, the router reboots every hour.", agent=False, name=name, hours_ago=30
        ),
        crm.message(
            "t1",
            "Thanks! Could you update the firmware to 2.4 and tell us if it helps?",
            hours_ago=5,
        ),
        crm.ticket("t2", "Invoice for October", hours_ago=50, stage="waiting"),
        crm.link("t2", company="co1"),
        crm.ticket("t3", "Old delivery question", hours_ago=300, status="closed", stage="closed"),
        crm.link("t3", contact="c1"),
    )


async def _activate(stack: Any, context: Any, pid: str, email: str) -> Any:
    await stack.invite(pid, "c1")
    link = await stack.link_to(email)
    assert link.startswith("http://") and "?token=" in link
    page = await context.new_page()
    await page.goto(link)
    assert "token" not in page.url
    assert page.url.endswith("/activate")
    return page


async def test_journey_in_english(stack: Any, browser_context: Any, shots: Any) -> None:
    host = "localhost"
    pid = await stack.portal(
        host, "en", "help", "Acme Support", ticket_display=DISPLAY, support_form=FORM
    )
    await _seed(stack, "ana@acme.example", "Ana")
    context = await browser_context()

    login = await context.new_page()
    await login.goto(stack.url(host, "/help/"))
    assert login.url.endswith("/help/login")
    await expect(login).to_have_title("Acme Support")
    await expect(login.locator("html")).to_have_attribute("lang", "en")
    await shots.take(login, "login")
    await login.goto(stack.url(host, "/help/register"))
    await shots.take(login, "register")
    await login.goto(stack.url(host, "/help/password-reset"))
    await shots.take(login, "password-reset")

    page = await _activate(stack, context, pid, "ana@acme.example")
    await expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    await expect(page.get_by_text("has at least 8 characters")).to_be_visible()
    await shots.take(page, "activate")
    await page.get_by_label(label("New password")).fill("password123")
    await page.get_by_label(label("Repeat the new password")).fill("password123")
    await page.get_by_role("button", name="Save password and log in").click()
    await expect(page.get_by_text("This password is too common")).to_be_visible()
    await page.get_by_label(label("New password")).fill(PASSWORD)
    await page.get_by_label(label("Repeat the new password")).fill(PASSWORD)
    await page.get_by_role("button", name="Save password and log in").click()
    await expect(page.get_by_text("Your password is set and you are logged in")).to_be_visible()
    assert page.url == stack.url(host, "/help/")

    items = page.locator(".ticket-item")
    await expect(items).to_have_count(2)
    await expect(items.nth(0)).to_contain_text("Router keeps rebooting")
    await expect(items.nth(0)).to_contain_text("Received")
    await expect(items.nth(0)).to_contain_text("A-1043")
    await expect(items.nth(1)).to_contain_text("Invoice for October")
    await expect(items.nth(1)).to_contain_text("Company")
    await expect(items.nth(1)).to_contain_text("Waiting for you")
    await shots.take(page, "tickets")
    await page.get_by_role("link", name="Closed").click()
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("Old delivery question")
    await page.get_by_role("link", name="All", exact=True).click()
    await expect(items).to_have_count(3)
    await page.get_by_label(label("Search")).fill("invoice")
    await page.get_by_role("button", name="Search").click()
    await expect(items).to_have_count(1)
    await page.get_by_label(label("Search")).fill("no such words")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("No tickets found")).to_be_visible()
    await page.goto(stack.url(host, "/help/?status=all&sort=created_at"))
    await expect(items.first).to_contain_text("Old delivery question")

    await page.goto(stack.url(host, "/help/"))
    await page.get_by_role("link", name="Router keeps rebooting").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Router keeps rebooting")
    messages = page.locator(".message")
    await expect(messages).to_have_count(2)
    await expect(messages.nth(0)).to_have_class(re.compile("message-customer"))
    await expect(messages.nth(1)).to_have_class(re.compile("message-agent"))
    await expect(messages.nth(1)).to_contain_text("firmware to 2.4")
    await page.get_by_label(label("Your message")).fill(
        "Updated to 2.4 — no reboot since.\nThank you!"
    )
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.get_by_text("Your reply has been sent.")).to_be_visible()
    await expect(messages).to_have_count(3)
    await expect(messages.nth(2)).to_contain_text("no reboot since")
    await shots.take(page, "ticket")

    page.on("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Close ticket").click()
    await expect(page.get_by_text("The ticket is closed.")).to_be_visible()
    await expect(page.locator(".ticket-head .badge").first).to_have_text("Closed")

    await page.goto(stack.url(host, "/help/"))
    await page.get_by_role("link", name="New ticket").click()
    await page.get_by_label(label("Subject")).fill("Second router is slow")
    await page.get_by_label(label("Description")).fill("Speed dropped to 10 Mbit/s yesterday.")
    await shots.take(page, "new-ticket")
    await page.get_by_role("button", name="Create ticket").click()
    assert page.url.endswith("/tickets/new")
    await page.get_by_label(label("Order number")).fill("A-2001")
    await page.get_by_label(label("Product")).select_option("Switch S8")
    await page.get_by_label(label("Also inform (email)")).fill("it@acme.example")
    await page.get_by_role("button", name="Create ticket").click()
    await expect(page.get_by_text("Your ticket has been created")).to_be_visible()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Second router is slow")
    await expect(page.locator(".facts")).to_contain_text("A-2001")
    await expect(page.locator(".message")).to_contain_text("Speed dropped")

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_text("You have been logged out.")).to_be_visible()
    await page.goto(stack.url(host, "/help/tickets/t1"))
    assert "/help/login" in page.url
    await page.get_by_label(label("Email address")).fill("ana@acme.example")
    await page.get_by_label(label("Password")).fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    await expect(
        page.get_by_text("The email address or the password is not correct.")
    ).to_be_visible()
    await expect(page.get_by_label(label("Email address"))).to_have_value("ana@acme.example")
    await expect(page.get_by_label(label("Password"))).to_have_value("")
    await page.get_by_label(label("Password")).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Router keeps rebooting")

    await page.get_by_role("button", name="Log out").click()
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label(label("Email address")).fill("ana@acme.example")
    await page.get_by_role("button", name="Send me the link").click()
    await expect(page.get_by_text("If this address belongs to a member")).to_be_visible()
    reset = await stack.link_to("ana@acme.example", kind="password-reset/confirm")
    await page.goto(reset)
    assert "token" not in page.url
    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await shots.take(page, "password-reset-confirm")
    await page.get_by_label(label("New password")).fill("brand new harbour 77")
    await page.get_by_label(label("Repeat the new password")).fill("brand new harbour 77")
    await page.get_by_role("button", name="Save password and log in").click()
    await expect(page.get_by_text("Your new password is set")).to_be_visible()
    await page.get_by_role("button", name="Log out").click()
    await page.goto(reset)
    await page.get_by_label(label("New password")).fill("another fine day 88")
    await page.get_by_label(label("Repeat the new password")).fill("another fine day 88")
    await page.get_by_role("button", name="Save password and log in").click()
    await expect(page.get_by_text("This link is not valid")).to_be_visible()
    await expect(page.get_by_role("link", name="Request a new link")).to_be_visible()


async def test_journey_in_portuguese(stack: Any, browser_context: Any, shots: Any) -> None:
    host = "127.0.0.1"
    pid = await stack.portal(
        host, "pt-BR", "ajuda", "Acme Suporte", ticket_display=DISPLAY, support_form=FORM
    )
    await _seed(stack, "bia@acme.example", "Bia")
    context = await browser_context()
    page = await _activate(stack, context, pid, "bia@acme.example")
    await expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    await expect(page).to_have_title("Acme Suporte")
    await expect(page.get_by_role("heading", name="Escolha sua senha")).to_be_visible()
    await page.get_by_label(label("Nova senha")).fill(PASSWORD)
    await page.get_by_label(label("Repita a nova senha")).fill(PASSWORD + "x")
    await page.get_by_role("button", name="Salvar senha e entrar").click()
    await expect(page.get_by_text("As duas senhas não são iguais.")).to_be_visible()
    await page.get_by_label(label("Nova senha")).fill(PASSWORD)
    await page.get_by_label(label("Repita a nova senha")).fill(PASSWORD)
    await page.get_by_role("button", name="Salvar senha e entrar").click()
    await expect(page.get_by_text("Sua senha foi definida")).to_be_visible()
    await expect(page.get_by_role("heading", name="Seus chamados")).to_be_visible()
    await expect(page.locator(".ticket-item").nth(1)).to_contain_text("Empresa")
    await expect(page.locator(".ticket-item").first).to_contain_text("Atualizado há 1 dia")
    await shots.take(page, "tickets-pt-BR")

    await page.get_by_role("link", name="Router keeps rebooting").click()
    await expect(page.get_by_role("heading", name="Conversa")).to_be_visible()
    await page.get_by_label(label("Sua mensagem")).fill("Obrigada, resolvido!")
    await page.get_by_role("button", name="Enviar resposta").click()
    await expect(page.get_by_text("Sua resposta foi enviada.")).to_be_visible()
    await expect(page.locator(".message").last).to_contain_text("Obrigada, resolvido!")
    await shots.take(page, "ticket-pt-BR")

    await page.get_by_role("link", name="Todos os chamados").click()
    await page.get_by_role("link", name="Novo chamado").click()
    await page.get_by_label(label("Assunto")).fill("Nova dúvida")
    await page.get_by_label(label("Descrição")).fill("Como configuro a VPN?")
    await page.get_by_label(label("Order number")).fill("B-7")
    await page.get_by_label(label("Product")).select_option("Router X1")
    await page.get_by_role("button", name="Criar chamado").click()
    await expect(page.get_by_text("Seu chamado foi criado.")).to_be_visible()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nova dúvida")
    await page.get_by_role("button", name="Sair").click()
    await expect(page.get_by_text("Você saiu da sua conta.")).to_be_visible()
