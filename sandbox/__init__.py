"""socialmart's local API sandbox.

A real HTTP server on 127.0.0.1 that imitates the channel APIs (Meta
Marketing API, GA4 Data API, ECB FX rates, ...) over a deterministic, seeded
synthetic marketing world, with switchable faults so tests can drive every
error path of the connectors::

    from sandbox import Sandbox, Fault

    with Sandbox(seed=7, today=date(2025, 6, 15)) as sb:
        urls = sb.base_urls()          # {"meta_ads": ".../meta_ads/v21.0", "ga4": ..., "fx": ...}
        sb.inject(Fault("meta_ads", "throttle", params={"minutes": 2}))
        ...

Run standalone with ``python -m sandbox --port 8765``.
"""

from .faults import Fault
from .server import Sandbox
from .world import World

__all__ = ["Fault", "Sandbox", "World"]
