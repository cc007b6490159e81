"""Shared building blocks of every contract: frozen models and identifier types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION = 1

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,64}$", strict=True)]
"""An id that is safe as a NATS subject token and a database key."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(max_length=100_000)]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone (RFC 3339)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]

JsonScalar = str | int | float | bool | None
Properties = Annotated[dict[str, JsonScalar], Field(max_length=500)]


class Frozen(BaseModel):
    """Immutable and strict about unknown fields: a typo is an error, not a silent no-op."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Lenient(BaseModel):
    """Immutable, tolerates fields added by a newer producer of the same version."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def dump(model: BaseModel) -> bytes:
    return model.model_dump_json(exclude_none=False).encode()


def as_jsonable(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
