"""Channel connectors: each API's wire format -> typed Arrow batches.

No Dagster here: connectors are plain code, wrapped by `orchestration`.

`CONNECTORS` is found, not written: every module of this package is scanned
for `Connector` subclasses that name a `channel`, so a new channel's module is
all it takes (base classes shared by an API family name none and are skipped).
"""

from __future__ import annotations

import importlib
import pkgutil

from connectors.base import CHANNEL_KINDS, DBT_UNIONS, ENGAGEMENTS_BASES, ChannelSettings, Connector, Stream


def discover_connectors(package: str = __name__) -> dict[str, type[Connector]]:
    """channel -> connector class, for every concrete connector in `package`'s
    modules, in channel order; a channel declared twice or a declaration the
    rest of the pipeline cannot use is an error naming the class."""
    found: dict[str, type[Connector]] = {}
    for module_info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{module_info.name}")
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, Connector)) or obj.__module__ != module.__name__:
                continue
            if "channel" not in obj.__dict__:  # a shared base (an API family's), not a channel
                continue
            if obj.channel in found:
                raise TypeError(f"channel {obj.channel!r} is declared by both {found[obj.channel].__qualname__} "
                                f"and {obj.__module__}.{obj.__qualname__}")
            check_declaration(obj)
            found[obj.channel] = obj
    return dict(sorted(found.items()))


def check_declaration(connector: type[Connector]) -> None:
    """The class attributes the registry's users read (connectors/base.py)."""
    where = f"{connector.__module__}.{connector.__qualname__}"
    missing = [name for name in ("streams", "kind", "display_name", "platform", "default_base_url")
               if not hasattr(connector, name)]
    if missing:
        raise TypeError(f"{where} (channel {connector.channel!r}) does not declare {', '.join(missing)}")
    problems = []
    if connector.kind not in CHANNEL_KINDS:
        problems.append(f"kind {connector.kind!r} is not one of {', '.join(CHANNEL_KINDS)}")
    problems += [f"dbt_unions names an unknown union {union!r} (known: {', '.join(DBT_UNIONS)})"
                 for union in connector.dbt_unions if union not in DBT_UNIONS]
    if connector.ad_totals is not None:
        problems += [f"ad_totals names no stream of its own: {stream!r}"
                     for stream in (connector.ad_totals.stream, connector.ad_totals.currency_stream)
                     if stream not in connector.streams]
    if "account_daily" in connector.dbt_unions and connector.engagements_basis not in ENGAGEMENTS_BASES:
        problems.append(f"an organic channel needs engagements_basis, one of {', '.join(ENGAGEMENTS_BASES)}")
    if problems:
        raise TypeError(f"{where} (channel {connector.channel!r}): " + "; ".join(problems))


CONNECTORS: dict[str, type[Connector]] = discover_connectors()

__all__ = ["CONNECTORS", "ChannelSettings", "Connector", "Stream", "discover_connectors"]
