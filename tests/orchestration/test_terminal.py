"""What the terminal shows of a run (quiet, verbose, piped) and what the run log keeps."""

from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path

import pytest
from rich.console import Console

import connectors
from orchestration import progress
from orchestration.progress import AccountPulled, IngestEnded, IngestPlan, StreamLanded
from orchestration.run_log import KEEP, RunLog
from orchestration.terminal import Terminal


@pytest.fixture
def screen(request):
    """A piped terminal (no TTY, as in CI and cron) as the root logger's one handler."""
    out = io.StringIO()
    terminal = Terminal(verbose=getattr(request, "param", False), console=Console(file=out, force_terminal=False, width=80))
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers[:] = [terminal]
    root.setLevel(logging.INFO)
    yield terminal, out
    root.handlers[:] = saved
    root.setLevel(level)


def ingest_two_channels() -> None:
    progress.report(IngestPlan({"meta_ads": (2, 2), "x": (1, 1)}))
    for stream in ("insights", "campaigns"):
        for account in ("act_1", "act_2"):
            progress.report(AccountPulled("meta_ads", stream, account, 10, 0.1, "2026-01-01..2026-01-31"))
        progress.report(StreamLanded("meta_ads", stream, 20, 0.2))
    logging.getLogger("socialmart.x").info("x user 1: partial error kept out of the rows: Could not find tweet")
    progress.report(AccountPulled("x", "posts", "1", 5, 0.1))
    progress.report(IngestEnded(False))


def test_piped_and_quiet_one_line_per_finished_channel_and_step(screen):
    terminal, out = screen
    assert not terminal.live  # not a TTY: no live display, plain lines
    ingest_two_channels()
    progress.steps.info("dbt build: 3 model ok in 1.0s")
    logging.getLogger("dagster.builtin").warning("Logging an `AssetObservation` instead of an `AssetCheckResult`")
    logging.getLogger("socialmart.lock").warning("taking over the stale warehouse lock")
    lines = [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "ingest meta_ads: 2 streams x 2 accounts, 40 rows in " + lines[0].rsplit(" ", 1)[1],
        "ingest x: stopped after 0 of 1 streams",
        "ingest: 45 rows from 2 streams of 2 channels in " + lines[2].split(" in ")[1],
        "dbt build: 3 model ok in 1.0s",
        "WARNING taking over the stale warehouse lock",
    ]
    assert lines[2].endswith("(FAILED: see the summary)")


@pytest.mark.parametrize("screen", [True], indirect=True)
def test_verbose_adds_every_account_and_the_routine_notes(screen):
    _, out = screen
    ingest_two_channels()
    text = out.getvalue()
    assert "meta_ads.insights act_2 2026-01-01..2026-01-31: 10 rows in 0.1s" in text
    assert "x user 1: partial error kept out of the rows" in text
    assert "ingest meta_ads: 2 streams x 2 accounts" in text


def test_the_run_log_keeps_everything_and_counts_the_api_notes(tmp_path, screen):
    _, out = screen
    with RunLog(tmp_path, "run") as run_log:
        for user in ("3180223118", "1460571843917029377"):
            # As connectors/x.py logs it: from a module of the connectors package.
            record = logging.LogRecord("socialmart.x", logging.INFO, str(Path(connectors.__file__).parent / "x.py"), 1,
                                       f"x user {user}: partial error kept out of the rows: Could not find tweet [{user}]", None, None)
            logging.getLogger("socialmart.x").handle(record)
        print("12:00:01  1 of 85 START sql table model marts.dim_date ... [RUN]")  # dbt's echo on stdout
        warnings.warn("PySpark does not yet fully support pandas >= 3.0.0", FutureWarning, stacklevel=1)
        progress.report(AccountPulled("ga4", "traffic", "123456", 3161, 0.3, "2026-01-01..2026-01-31"))
    text = run_log.path.read_text()
    assert run_log.path.parent == tmp_path / "logs" and run_log.path.name.startswith("run-")
    assert "partial error kept out of the rows" in text and "START sql table model marts.dim_date" in text
    assert "FutureWarning: PySpark" in text and "ga4.traffic 123456 2026-01-01..2026-01-31: 3161 rows" in text
    # Counted as one kind, the first one as its example; none of it on the quiet terminal.
    assert run_log.notes() == [(2, "x user 3180223118: partial error kept out of the rows: Could not find tweet [3180223118]")]
    assert out.getvalue() == ""


def test_the_newest_run_logs_are_kept(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    for i in range(KEEP + 5):
        (folder / f"nightly-{i:04d}.log").write_text("old")
        os.utime(folder / f"nightly-{i:04d}.log", (1_000_000 + i, 1_000_000 + i))
    with RunLog(tmp_path, "run") as run_log:
        logging.getLogger("socialmart.lock").warning("taking over the stale warehouse lock")
    kept = sorted(folder.glob("*.log"))
    assert len(kept) == KEEP and run_log.path in kept and folder / "nightly-0000.log" not in kept


def test_a_run_log_that_cannot_be_written_does_not_stop_the_run(tmp_path, screen):
    blocked = tmp_path / "warehouse"
    blocked.write_text("a file where the warehouse's logs folder would go")
    with RunLog(blocked, "run") as run_log:
        progress.steps.info("dbt build: 3 model ok in 1.0s")
        print("dbt's echo")
    assert isinstance(run_log.error, OSError)
    _, out = screen
    assert "dbt build: 3 model ok" in out.getvalue()  # the terminal still shows the run
