"""Integration contracts of the customer portal: the only code services share."""

from .base import SCHEMA_VERSION
from .subjects import CORRELATION_HEADER, DEFAULT, Namespace

__all__ = ["CORRELATION_HEADER", "DEFAULT", "SCHEMA_VERSION", "Namespace"]
