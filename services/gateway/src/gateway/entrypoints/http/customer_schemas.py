"""HTTP bodies of the customer API. Unknown fields are refused; sizes are bounded here so
no backend sees an oversized value. Password rules (8..128 characters, not a common
password) are portal-config's, answered 422 `validation_error`."""

from __future__ import annotations

from typing import Annotated, Any

from portal_contracts.base import Frozen
from pydantic import BaseModel, Field, StringConstraints

Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Password = Annotated[str, StringConstraints(max_length=4096)]


class EmailBody(Frozen):
    email: Email


class Credentials(Frozen):
    email: Email
    password: Password


class TokenAndPassword(Frozen):
    token: Token
    password: Password


class NewTicket(Frozen):
    """Checked against the portal's support form after parsing (see `domain.support_form`)."""

    subject: Annotated[str, StringConstraints(max_length=1000)]
    description: Annotated[str, StringConstraints(max_length=100_000)]
    fields: Annotated[dict[str, Any], Field(max_length=100)] | None = None


class NewMessage(Frozen):
    body: Annotated[str, StringConstraints(max_length=20_000)]


class CsrfToken(BaseModel):
    csrf_token: str


class Accepted(BaseModel):
    status: str
    message: str


class Me(BaseModel):
    contact_id: str
    email: str
    name: str | None = None
    company: dict[str, Any] | None = None
