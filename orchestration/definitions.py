"""The code location: Definitions built from the configuration the CLI uses.

Loaded by `workspace.yaml` (dagster dev / the UI, `dagster definitions
validate`). The config is found as the CLI finds it: $SOCIALMART_CONFIG,
./socialmart.yaml, else the embedded API sandbox's config (generated on first
use; the run workers that ingest serve the sandbox themselves).
"""

from orchestration.config import config_path, load_settings
from orchestration.defs import build_definitions
from orchestration.sandbox_config import embedded_config


def _load():
    path = config_path() or embedded_config()[0]
    return build_definitions(load_settings(path))


defs = _load()
