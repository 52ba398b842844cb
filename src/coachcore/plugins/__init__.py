"""pluggy integration: hook specifications and the plugin manager."""

from coachcore.plugins.hookspecs import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]
