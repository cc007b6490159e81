"""A customer's new ticket checked against the portal's support form.

Business rules:
- The portal must accept new tickets (`support_form.enabled`), else the request is refused.
- `subject` (1..200 characters after trimming) and `description` (1..20 000) are always
  required; they are not form fields.
- `fields` holds only the form's own fields: an unknown name is refused, never dropped.
- A required field must be present and not blank; every value is a string.
- `select` values must be one of the field's options; `email` values must look like an
  address; `text` values are at most 1 000 characters, `textarea` values 10 000.
- Values are kept as the customer typed them (trimmed); nothing is interpreted as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from portal_contracts.portal import SupportForm

SUBJECT_MAX = 200
DESCRIPTION_MAX = 20_000
VALUE_MAX = {"text": 1_000, "textarea": 10_000, "select": 200, "email": 254}
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    type: str


@dataclass(frozen=True)
class TicketDraft:
    subject: str
    description: str
    properties: dict[str, str] = field(default_factory=dict)


class FormClosed(Exception):
    """The portal does not take new tickets."""


class FormRefused(Exception):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def _text(name: str, value: Any, limit: int, problems: list[FieldProblem]) -> str | None:
    if not isinstance(value, str):
        problems.append(FieldProblem(name, "must be a string", "string_type"))
        return None
    value = value.strip()
    if not value:
        problems.append(FieldProblem(name, "must not be blank", "missing"))
        return None
    if len(value) > limit:
        problems.append(FieldProblem(name, f"at most {limit} characters", "string_too_long"))
        return None
    return value


def check_new_ticket(form: SupportForm, subject: Any, description: Any, fields: Any) -> TicketDraft:
    """→ the draft to publish; raises `FormClosed` or `FormRefused` (every problem named)."""
    if not form.enabled:
        raise FormClosed("this portal does not accept new tickets")
    problems: list[FieldProblem] = []
    clean_subject = _text("subject", subject, SUBJECT_MAX, problems)
    clean_description = _text("description", description, DESCRIPTION_MAX, problems)
    given: dict[str, Any] = {}
    if fields is None:
        given = {}
    elif isinstance(fields, dict):
        given = fields
    else:
        problems.append(FieldProblem("fields", "must be an object", "dict_type"))
    known = {f.name: f for f in form.fields}
    for name in given:
        if name not in known:
            problems.append(FieldProblem(f"fields.{name}", "not a field of this form", "extra"))
    properties: dict[str, str] = {}
    for spec in form.fields:
        path = f"fields.{spec.name}"
        raw = given.get(spec.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.required:
                problems.append(FieldProblem(path, "is required", "missing"))
            continue
        value = _text(path, raw, VALUE_MAX[spec.type], problems)
        if value is None:
            continue
        if spec.type == "select" and value not in (spec.options or []):
            problems.append(FieldProblem(path, "is not one of the options", "enum"))
        elif spec.type == "email" and not EMAIL.match(value):
            problems.append(FieldProblem(path, "is not an email address", "email"))
        else:
            properties[spec.name] = value
    if problems or clean_subject is None or clean_description is None:
        raise FormRefused(problems)
    return TicketDraft(clean_subject, clean_description, properties)
