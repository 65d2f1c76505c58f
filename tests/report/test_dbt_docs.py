"""dbt docs: the site builds from the project and a real build database, and every column is described."""

from __future__ import annotations

import json

from orchestration.dbt_docs import generate_docs


def test_docs_site_builds_and_every_model_column_has_a_description(published):
    site = generate_docs(published.warehouse_dir, published)
    assert (site / "index.html").exists()
    # In the pipeline's dbt environment: started from the configuration's parse, no file parsed again.
    log = (site / "logs" / "dbt.log").read_text()
    assert "Partial parsing enabled, no changes found, skipping parsing" in log and "Unable to do partial parsing" not in log
    manifest = json.loads((site / "manifest.json").read_text())
    catalog = json.loads((site / "catalog.json").read_text())
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    # The catalog holds the columns each model really has in the build database, documented or not.
    assert set(catalog["nodes"]) >= set(models), f"models missing from the catalog: {sorted(set(models) - set(catalog['nodes']))}"
    undocumented = []
    for uid, node in sorted(models.items()):
        described = {name.lower() for name, column in node["columns"].items() if column.get("description", "").strip()}
        undocumented += [f"{node['name']}.{column}" for column in catalog["nodes"][uid]["columns"] if column.lower() not in described]
        if not node.get("description", "").strip():
            undocumented.append(f"{node['name']} (the model itself)")
    assert undocumented == [], f"{len(undocumented)} columns without a description:\n" + "\n".join(undocumented)


def test_docs_build_without_a_build_database(tmp_path):
    site = generate_docs(tmp_path / "fresh_warehouse")
    catalog = json.loads((site / "catalog.json").read_text())
    assert (site / "index.html").exists() and catalog["nodes"] == {}
    assert not (tmp_path / "fresh_warehouse" / "build.duckdb").exists()
