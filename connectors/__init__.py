"""Channel connectors: each API's wire format -> typed Arrow batches.

No Dagster here: connectors are plain code, wrapped by `orchestration`.
"""

from connectors.base import ChannelSettings, Connector, Stream
from connectors.facebook_pages import FacebookPagesConnector
from connectors.fx import FxConnector
from connectors.ga4 import Ga4Connector
from connectors.instagram import InstagramConnector
from connectors.linkedin import LinkedinConnector
from connectors.meta_ads import MetaAdsConnector
from connectors.tiktok_ads import TikTokAdsConnector
from connectors.wechat import WeChatConnector
from connectors.weibo import WeiboConnector
from connectors.x import XConnector
from connectors.youtube import YoutubeConnector

CONNECTORS: dict[str, type[Connector]] = {
    "meta_ads": MetaAdsConnector,
    "ga4": Ga4Connector,
    "fx": FxConnector,
    "facebook_pages": FacebookPagesConnector,
    "instagram": InstagramConnector,
    "x": XConnector,
    "weibo": WeiboConnector,
    "youtube": YoutubeConnector,
    "linkedin": LinkedinConnector,
    "tiktok_ads": TikTokAdsConnector,
    "wechat": WeChatConnector,
}

__all__ = ["CONNECTORS", "ChannelSettings", "Connector", "Stream"]
