"""Contact property filters: `[[A, B], [C]]` means (A and B) or C."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from .base import Frozen, JsonScalar

Operator = Literal["eq", "neq", "contains", "in", "is_set", "not_set"]
PropertyName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$", strict=True)
]


class Filter(Frozen):
    property: PropertyName
    operator: Operator
    value: JsonScalar | list[JsonScalar] = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Filter:
        if self.operator in ("is_set", "not_set"):
            if self.value is not None:
                raise ValueError(f"operator '{self.operator}' takes no value")
        elif self.operator == "in":
            if not isinstance(self.value, list) or not self.value:
                raise ValueError("operator 'in' needs a non-empty list value")
            if len(self.value) > 500:
                raise ValueError("operator 'in' takes at most 500 values")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"operator '{self.operator}' needs a single value")
        return self


FilterGroup = Annotated[list[Filter], Field(min_length=1, max_length=20)]
FilterGroups = Annotated[list[FilterGroup], Field(min_length=1, max_length=20)]


def _text(value: JsonScalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _is_set(value: JsonScalar) -> bool:
    return value is not None and _text(value) != ""


def filter_matches(flt: Filter, properties: dict[str, JsonScalar]) -> bool:
    """Comparison is on text, case-insensitive: CRM properties arrive as strings or numbers."""
    actual = properties.get(flt.property)
    if flt.operator == "is_set":
        return _is_set(actual)
    if flt.operator == "not_set":
        return not _is_set(actual)
    if not _is_set(actual):
        return flt.operator == "neq"
    text = _text(actual).casefold()
    if flt.operator == "in":
        assert isinstance(flt.value, list)
        return text in {_text(v).casefold() for v in flt.value}
    expected = _text(flt.value if not isinstance(flt.value, list) else None).casefold()
    if flt.operator == "eq":
        return text == expected
    if flt.operator == "neq":
        return text != expected
    return expected in text


def groups_match(groups: list[list[Filter]], properties: dict[str, JsonScalar]) -> int | None:
    """Index of the first group whose filters all match, or None."""
    for index, group in enumerate(groups):
        if all(filter_matches(f, properties) for f in group):
            return index
    return None
