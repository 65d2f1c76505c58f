"""Channel registry: one module per vendor API, each mounted at ``/<name>``.

``CHANNEL_CLASSES`` is found, not written: every module of this package is
scanned for ``Channel`` subclasses with a ``name``, so a new channel's module
is all the server, fault injection, stats and ``base_urls()`` need.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Channel, Request, Response


def discover_channels(package: str = __name__) -> tuple[type[Channel], ...]:
    """Every concrete sandbox channel in `package`'s modules, in name order."""
    found: dict[str, type[Channel]] = {}
    for module_info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{module_info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, Channel) and obj.__module__ == module.__name__
                    and obj.__dict__.get("name")):
                if obj.name in found:
                    raise TypeError(f"sandbox channel {obj.name!r} is served by both {found[obj.name].__qualname__} "
                                    f"and {obj.__module__}.{obj.__qualname__}")
                found[obj.name] = obj
    return tuple(found[name] for name in sorted(found))


CHANNEL_CLASSES: tuple[type[Channel], ...] = discover_channels()

__all__ = ["CHANNEL_CLASSES", "Channel", "Request", "Response", "discover_channels"]
