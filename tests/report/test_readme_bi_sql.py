"""Every SQL example of the README's "Connect your BI tool" section runs against a real published file."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Connect your BI tool"


def readme_sql_examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return re.findall(r"```sql\n(.*?)```", text[start:end if end != -1 else None], re.S)


def example_name(sql: str) -> str:
    return sql.splitlines()[0].removeprefix("--").strip().split(":")[0]


def test_the_section_answers_the_common_questions():
    names = [example_name(sql).lower() for sql in readme_sql_examples()]
    for question in ("weekly kpis", "roas by channel", "best content", "follower growth"):
        assert any(name.startswith(question) for name in names), f"no README example for {question!r}: {names}"


@pytest.mark.parametrize("sql", readme_sql_examples(), ids=example_name)
def test_readme_example_runs_read_only_and_returns_rows(published, sql):
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert rows, f"the README example returned no rows:\n{sql}"


def test_the_follower_example_returns_every_organic_platform(published):
    """Platforms without daily net growth (X, Weibo, Instagram, LinkedIn) still show their totals and gains."""
    sql = next(s for s in readme_sql_examples() if example_name(s).lower().startswith("follower growth"))
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        organic = {r[0] for r in con.execute("SELECT DISTINCT channel FROM marts.fct_audience_daily").fetchall()}
        returned = {r[0] for r in con.execute(sql).fetchall()}
    assert organic and returned == organic
