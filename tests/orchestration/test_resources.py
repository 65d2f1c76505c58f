"""The build database's DuckDB settings are the same for dbt and the pipeline."""

import yaml

from orchestration.defs.resources import DISABLED_OPTIMIZERS
from orchestration.defs.transform import DBT_PROJECT_DIR


def test_dbt_and_the_pipeline_disable_the_same_duckdb_optimizers():
    """A replayed build (the pipeline's connection) runs dbt's SQL under the
    optimizer settings dbt's own builds have (profiles.yml)."""
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    options = profile["socialmart"]["outputs"]["build"]["config_options"]
    assert options["disabled_optimizers"] == DISABLED_OPTIMIZERS
