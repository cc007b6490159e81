"""Every notice and error a customer page can show, by key.

Pages carry keys, never text, from a POST to the page it redirects to; the text is looked up
here and translated when the page renders, so a tampered cookie can only select one of
these messages (or none).
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction; translated at render time."""
    return message


MESSAGES: dict[str, str] = {
    "csrf": N_("This form has expired. Please try again."),
    "unavailable": N_("The service is briefly unavailable. Please try again in a moment."),
    "rate_limited": N_("Too many attempts. Please wait a few minutes, then try again."),
    "login_failed": N_("The email address or the password is not correct."),
    "login_needed": N_("Please log in to continue."),
    "logged_out": N_("You have been logged out."),
    "register_sent": N_(
        "Thank you. If this address may use the portal, an email with a link is on its way. "
        "Open it to choose your password."
    ),
    "reset_sent": N_(
        "If this address belongs to a member, an email with a link to choose a new password "
        "is on its way."
    ),
    "link_invalid": N_(
        "This link is not valid: it has already been used, has expired or is incomplete. "
        "Request a new one below."
    ),
    "activated": N_("Your password is set and you are logged in. Welcome!"),
    "password_changed": N_("Your new password is set and you are logged in."),
    "email_required": N_("Enter your email address."),
    "email_invalid": N_("Enter an email address like name@example.com."),
    "password_required": N_("Enter your password."),
    "password_too_short": N_("The password needs at least 8 characters."),
    "password_too_long": N_("The password may have at most 128 characters."),
    "password_common": N_("This password is too common. Choose one that is harder to guess."),
    "password_email": N_("The password must not be your email address."),
    "password_mismatch": N_("The two passwords are not the same."),
    "password_invalid": N_("This password cannot be used. Please choose another one."),
    "form_errors": N_("Please correct the fields marked below."),
    "field_required": N_("This field is required."),
    "field_too_long": N_("This is too long."),
    "field_option": N_("Choose one of the options."),
    "reply_sent": N_("Your reply has been sent."),
    "reply_required": N_("Write a message before sending."),
    "ticket_created": N_("Your ticket has been created. We will get back to you soon."),
    "ticket_closed": N_("The ticket is closed."),
    "close_not_allowed": N_("Tickets cannot be closed in this portal."),
    "form_closed": N_("This portal does not take new tickets at the moment."),
    "consent_saved": N_("Your choice has been saved."),
}

FIELD_PROBLEMS = {
    "missing": "field_required",
    "string_too_long": "field_too_long",
    "enum": "field_option",
    "email": "email_invalid",
}
PASSWORD_REASONS = {
    "too_short": "password_too_short",
    "too_long": "password_too_long",
    "common": "password_common",
    "email": "password_email",
}


def text_of(key: str | None) -> str | None:
    return MESSAGES.get(key) if key else None
