"""One yml style in the dbt project: what a model, column or test says is
written out where it applies, never through YAML anchors and aliases (a
reader of one column should not have to find the anchor it points to), and
the keys come in one order (KEY_ORDER)."""

from pathlib import Path

import yaml

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
YML_FILES = sorted(p for p in DBT_PROJECT.rglob("*.yml") if "target" not in p.relative_to(DBT_PROJECT).parts)
PROPERTY_FILES = sorted([*(DBT_PROJECT / "models").rglob("*.yml"), *(DBT_PROJECT / "seeds").rglob("*.yml")])


def anchors_and_aliases(text: str) -> list[str]:
    found = []
    for event in yaml.parse(text):
        if isinstance(event, yaml.AliasEvent):
            found.append(f"*{event.anchor} (line {event.start_mark.line + 1})")
        elif getattr(event, "anchor", None):
            found.append(f"&{event.anchor} (line {event.start_mark.line + 1})")
    return found


def test_anchors_and_aliases_are_found():
    assert anchors_and_aliases("a: &x [1]\nb: *x\n") == ["&x (line 1)", "*x (line 2)"]
    assert anchors_and_aliases("a: [1]\nb: '*x'\n") == []


def test_no_yml_uses_anchors_or_aliases():
    found = {str(p.relative_to(DBT_PROJECT)): anchors_and_aliases(p.read_text()) for p in YML_FILES}
    assert not {path: uses for path, uses in found.items() if uses}


# The order of an entry's keys (models, seeds, sources and their columns and tables).
KEY_ORDER = ["name", "data_type", "description", "schema", "config", "data_tests", "columns", "tables"]


def test_entries_keep_one_key_order():
    odd = []
    for path in PROPERTY_FILES:
        document = yaml.safe_load(path.read_text()) or {}
        for kind in ("models", "seeds", "sources"):
            for entry in document.get(kind, []):
                entries = [(entry["name"], list(entry))]
                for part in ("columns", "tables"):
                    entries += [(f"{entry['name']}.{e['name']}", list(e)) for e in entry.get(part, [])]
                for name, keys in entries:
                    if any(k not in KEY_ORDER for k in keys) or keys != sorted(keys, key=KEY_ORDER.index):
                        odd.append(f"{path.name}: {name}: {keys}")
    assert not odd, odd
