"""Bad configuration stops `socialmart run` before anything runs; identifiers
reach SQL quoted (values always bound: see test_run_safety's hostile names)."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from orchestration.config import SANDBOX_TOKEN_VARIABLE
from orchestration.landing import quote, raw_table
from orchestration.publish import sql_string
from tests.reliability.helpers import TOKEN, run_cli

SANDBOX_TOKEN = "${" + SANDBOX_TOKEN_VARIABLE + "}"


def meta(accounts: list[str], token: str = SANDBOX_TOKEN) -> dict:
    return {"meta_ads": {"base_url": "http://127.0.0.1:9/meta_ads/v21.0", "access_token": token, "accounts": accounts}}


# what socialmart.yaml says (besides warehouse.dir), the error the user reads
BAD = {
    "unknown channel": (
        {"channels": {"myspace": {"access_token": SANDBOX_TOKEN, "accounts": ["1"]}}},
        "channels.myspace: unknown channel (known: facebook_pages, ga4, ",
    ),
    "missing environment variable": (
        {"channels": meta(["act_1"], token="${SM_RELIABILITY_NEVER_SET}")},
        "channels.meta_ads.access_token: environment variable SM_RELIABILITY_NEVER_SET is not set",
    ),
    "malformed date": (
        {"history_start": "2024-02-30", "channels": meta(["act_1"])},
        "history_start: must be a date YYYY-MM-DD, got '2024-02-30'",
    ),
    "account id with SQL": (
        {"channels": meta(["act_1", "act_1; DROP TABLE raw_meta_ads.insights; --"])},
        "channels.meta_ads.accounts[1]: not a Meta ad account id (expected act_<digits>): 'act_1; DROP TABLE raw_meta_ads.insights; --'",
    ),
    "account id with shell": (
        {"channels": {"weibo": {"access_token": SANDBOX_TOKEN, "accounts": ["$(touch pwned)"]}}},
        "channels.weibo.accounts[0]: ",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_configuration_exits_2_naming_the_key_and_runs_nothing(tmp_path, case):
    config, error = BAD[case]
    path = tmp_path / "socialmart.yaml"
    path.write_text(yaml.safe_dump({"warehouse": {"dir": "./warehouse"}, **config}))
    done = run_cli(["run", "--config", str(path)], cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"socialmart: configuration error: {path}: ")
    assert error in done.stderr and "Traceback" not in done.stderr
    # Nothing ran: no warehouse, no Dagster instance, no file a shell would have made.
    assert [p.name for p in tmp_path.iterdir()] == ["socialmart.yaml"]


HOSTILE_IDENTIFIERS = ['we"ird', "semi;colon", "DROP TABLE x; --", "sp ace", "\u00fcn\u00efc\u00f8de \U0001F680", "'quoted'"]


@pytest.mark.parametrize("name", HOSTILE_IDENTIFIERS)
def test_quoted_identifiers_and_strings_come_back_exactly(tmp_path, name):
    with duckdb.connect(str(tmp_path / "q.duckdb")) as con:
        con.execute(f"CREATE SCHEMA {quote('raw_' + name)}")
        con.execute(f"CREATE TABLE {raw_table(name, name)} ({quote(name)} VARCHAR)")
        con.execute(f"INSERT INTO {raw_table(name, name)} VALUES ({sql_string(name)})")
        assert con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall() == [("raw_" + name, name)]
        assert con.execute("SELECT column_name FROM information_schema.columns").fetchall() == [(name,)]
        assert con.execute(f"SELECT {quote(name)} FROM {raw_table(name, name)}").fetchall() == [(name,)]


def test_a_credential_with_a_control_character_exits_2_naming_the_key_and_never_shows_it(tmp_path):
    """A token file with a Windows line ending, read by `$(cat token.txt)`."""
    path = tmp_path / "socialmart.yaml"
    path.write_text(yaml.safe_dump({"warehouse": {"dir": "./warehouse"},
                                    "channels": meta(["act_1"], token="${SM_RELIABILITY_CRLF_TOKEN}")}))
    done = run_cli(["run", "--config", str(path)], cwd=tmp_path, SM_RELIABILITY_CRLF_TOKEN=TOKEN + "\r\n")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"socialmart: configuration error: {path}: channels.meta_ads.access_token: "
                                  "environment variable SM_RELIABILITY_CRLF_TOKEN holds a control character")
    assert "Traceback" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr and repr(TOKEN + "\r\n")[1:-1] not in done.stdout + done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["socialmart.yaml"]
