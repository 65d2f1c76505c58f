"""The code location: Definitions built from socialmart.yaml.

Loaded by `workspace.yaml` (dagster dev / the UI, `dagster definitions
validate`). The config path comes from $SOCIALMART_CONFIG or ./socialmart.yaml;
`socialmart ui` starts the sandbox and sets it when there is no config.
"""

from orchestration.config import config_path, load_settings
from orchestration.defs import build_definitions


def _load():
    path = config_path()
    if path is None:
        raise RuntimeError(
            "socialmart: no configuration. Set SOCIALMART_CONFIG or create ./socialmart.yaml, "
            "or start the UI with `make ui` (it starts the API sandbox when there is no config)."
        )
    return build_definitions(load_settings(path))


defs = _load()
