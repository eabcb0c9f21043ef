"""Firm tables: read, map columns to roles, validate."""

from bayescluster.data.roles import Roles
from bayescluster.data.table import FirmData, load, read_table, validate

__all__ = ["FirmData", "Roles", "load", "read_table", "validate"]
