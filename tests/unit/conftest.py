"""Fixtures of the unit tests that share them across modules."""

from support.provisioning import api, wrangler

__all__ = ["api", "wrangler"]
