"""`make ui`: `socialmart ui` starts `dagster dev` on a loopback port; its
GraphQL API shows the asset graph by layer and channel, the checks, the
schedule and the sensors; SIGTERM stops the whole tree, cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.ops.conftest import SOCIALMART

# Starting a webserver, a daemon and a code server that parses the dbt
# project takes a while on a busy machine; this bounds the wait, it asserts nothing.
STARTUP_LIMIT_SECONDS = 300

ASSETS = """{ assetNodes { assetKey { path } groupName isPartitioned tags { key value }
  dependencyKeys { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""
LOCATION = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  __typename ... on PythonError { message }
  ... on RepositoryLocation { repositories { name
    schedules { name cronSchedule executionTimezone scheduleState { status } }
    sensors { name sensorState { status } } } } } } } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DagsterUI:
    def __init__(self, url: str, process: subprocess.Popen, log: Path, mark: str) -> None:
        self.url, self.process, self.log = url, process, log
        self.mark = mark  # an environment variable every process of this UI inherits

    def processes(self) -> list[int]:
        """The pids of this UI's process tree (socialmart ui, dagster dev, webserver, daemon, code server)."""
        pids = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and self.mark.encode() in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass  # ended meanwhile, or not ours to read
        return pids

    def query(self, text: str) -> dict:
        response = requests.post(f"{self.url}/graphql", json={"query": text}, timeout=120)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def location(self) -> dict | None:
        """The code location once loaded (None while it loads)."""
        entries = self.query(LOCATION)["workspaceOrError"]["locationEntries"]
        loaded = entries[0]["locationOrLoadError"] if entries else None
        if loaded and loaded["__typename"] == "PythonError":
            pytest.fail(f"the code location did not load: {loaded['message']}")
        return loaded


@pytest.fixture(scope="module")
def ui(ops_env, tmp_path_factory) -> Iterator[DagsterUI]:
    log = tmp_path_factory.mktemp("ui") / "ui.log"
    port = free_port()
    mark = f"SOCIALMART_UI_TEST={uuid.uuid4().hex}"
    # No DAGSTER_HOME: the UI opens the warehouse's instance, the one the CLI's runs record into.
    env = {**{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}, mark.split("=")[0]: mark.split("=")[1]}
    with log.open("w") as output:
        # A session of its own, so the whole tree (webserver, daemon, code server) can be ended.
        process = subprocess.Popen([str(SOCIALMART), "ui", "--config", str(ops_env.config), "--port", str(port)],
                                   env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    ui = DagsterUI(f"http://127.0.0.1:{port}", process, log, mark)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"socialmart ui exited with {process.returncode}:\n{log.read_text()}")
            try:
                if requests.get(f"{ui.url}/server_info", timeout=5).ok and ui.location():
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the Dagster UI did not come up in {STARTUP_LIMIT_SECONDS}s:\n{log.read_text()}")
            time.sleep(1)
        yield ui
    finally:
        _end_process_group(process)


def _end_process_group(process: subprocess.Popen) -> None:
    """Ctrl-C for `dagster dev` (it stops its children), then kill what is left of its group."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def test_asset_graph_by_layer_and_channel_with_checks(ui):
    nodes = {"/".join(node["assetKey"]["path"]): node for node in ui.query(ASSETS)["assetNodes"]}
    groups = {key: node["groupName"] for key, node in nodes.items()}
    # Raw assets are grouped per channel, dbt models per layer, publish on its own.
    assert groups["raw_meta_ads/meta_ads__insights"] == "raw_meta_ads" and groups["raw_ga4/ga4__traffic"] == "raw_ga4"
    assert groups["raw_fx/fx__ecb_rates"] == "raw_fx"
    assert groups["staging/stg_meta_ads__insights"] == "staging"
    assert groups["marts/fct_ad_performance_daily"] == "marts"
    assert groups["published/marketing_duckdb"] == "published"
    assert {"raw_meta_ads", "raw_ga4", "raw_fx", "staging", "intermediate", "marts", "published"} <= set(groups.values())
    # The lookup CSVs are a layer of their own, not "dbt" with a "main/" key.
    assert groups["seeds/ga4_source_channels"] == "seeds" and not [key for key in groups if key.startswith("main/")]
    # The UI labels a node by its key's last part: every raw table's names its channel.
    raw_labels = [key.split("/")[-1] for key in groups if key.startswith("raw_")]
    assert len(raw_labels) == len(set(raw_labels)) and "meta_ads__insights" in raw_labels
    # No daily partitions: a run's window is in its config, nothing shows as "Missing".
    assert not [key for key, node in nodes.items() if node["isPartitioned"]]
    tags = {tag["key"]: tag["value"] for tag in nodes["raw_meta_ads/meta_ads__insights"]["tags"]}
    assert tags["layer"] == "raw" and tags["channel"] == "meta_ads"

    # Lineage raw -> staging -> ... -> marts -> published.
    def upstream(key: str) -> set[str]:
        return {"/".join(dep["path"]) for dep in nodes[key]["dependencyKeys"]}

    assert "raw_meta_ads/meta_ads__insights" in upstream("staging/stg_meta_ads__insights")
    assert "marts/fct_ad_performance_daily" in upstream("published/marketing_duckdb")
    seen, frontier = set(), {"published/marketing_duckdb"}
    while frontier:
        key = frontier.pop()
        seen.add(key)
        frontier |= {dep for dep in upstream(key) if dep in nodes and dep not in seen}
    assert {"raw_meta_ads/meta_ads__insights", "raw_ga4/ga4__traffic", "raw_fx/fx__ecb_rates", "staging/stg_meta_ads__insights"} <= seen

    # dbt tests (and the audit) are attached to the assets they check.
    def checks(key: str) -> list[str]:
        return [check["name"] for check in nodes[key]["assetChecksOrError"].get("checks", [])]

    assert checks("marts/fct_ad_performance_daily") and checks("staging/stg_meta_ads__insights")


RUNS = """{ runsOrError { ... on Runs { results { runId jobName tags { key value }
  repositoryOrigin { repositoryLocationName repositoryName } } } } }"""


def test_cli_runs_belong_to_the_code_location_so_the_timeline_shows_them(ui, nightly_env):
    """The nightly the CLI ran (nightly_env) is runs of the UI's code location:
    the Overview timeline and the job pages group runs by it."""
    entries = ui.query(LOCATION)["workspaceOrError"]["locationEntries"]
    [repository] = entries[0]["locationOrLoadError"]["repositories"]
    cli_runs = [run for run in ui.query(RUNS)["runsOrError"]["results"]
                if any(tag["key"] == "socialmart/cli_pid" for tag in run["tags"])]
    assert {run["jobName"] for run in cli_runs} == {"socialmart_ingest", "socialmart_build"}
    assert {(run["repositoryOrigin"] or {}).get("repositoryLocationName") for run in cli_runs} == {entries[0]["name"]}
    assert {(run["repositoryOrigin"] or {}).get("repositoryName") for run in cli_runs} == {repository["name"]}


def test_schedule_and_sensors_are_listed_and_on(ui):
    [repository] = ui.location()["repositories"]
    [schedule] = repository["schedules"]
    assert schedule == {"name": "socialmart_nightly", "cronSchedule": "0 2 * * *", "executionTimezone": "UTC",
                        "scheduleState": {"status": "RUNNING"}}
    sensors = {sensor["name"]: sensor["sensorState"]["status"] for sensor in repository["sensors"]}
    assert sensors == {"socialmart_build_after_ingest": "RUNNING", "socialmart_alert_on_run_failure": "RUNNING",
                       "socialmart_alert_on_failed_checks": "RUNNING", "socialmart_published_freshness": "RUNNING"}


def test_sigterm_stops_the_ui_its_webserver_daemon_and_code_server_without_a_traceback(ui):
    """Runs last in this module: it ends the module's UI."""
    tree = ui.processes()
    assert len(tree) >= 4, tree  # socialmart ui, dagster dev, the webserver, the daemon (and code servers)
    os.kill(ui.process.pid, signal.SIGTERM)  # to socialmart ui alone, as `kill` or systemd would
    assert ui.process.wait(timeout=120) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 60
    while ui.processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ui.processes() == [], "left running after SIGTERM"
    log = ui.log.read_text()
    assert "Traceback" not in log and "stopping the Dagster UI, its daemon and code server" in log
