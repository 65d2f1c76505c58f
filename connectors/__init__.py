"""Channel connectors: each API's wire format -> typed Arrow batches.

No Dagster here: connectors are plain code, wrapped by `orchestration`.
"""

from connectors.base import ChannelSettings, Connector, Stream
from connectors.fx import FxConnector
from connectors.ga4 import Ga4Connector
from connectors.meta_ads import MetaAdsConnector

CONNECTORS: dict[str, type[Connector]] = {
    "meta_ads": MetaAdsConnector,
    "ga4": Ga4Connector,
    "fx": FxConnector,
}

__all__ = ["CONNECTORS", "ChannelSettings", "Connector", "Stream"]
