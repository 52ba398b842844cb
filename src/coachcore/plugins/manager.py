"""The plugin manager: specs, then built-ins, then entry points, then extras."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from coachcore.plugins import builtin, hookspecs


def get_plugin_manager(
    extra: Iterable[object] = (), *, entry_points: bool = True
) -> pluggy.PluginManager:
    """A fresh manager: specs, the built-in adapters, the ``coachcore`` entry-point
    group, then ``extra`` plugins (asked first); ``check_pending`` is called last."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(builtin, name="coachcore.builtin")
    if entry_points:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    for plugin in extra:
        manager.register(plugin)
    manager.check_pending()
    return manager
