"""The tags socialmart puts on Dagster runs, in one place: the CLI, the
schedule, the sensors and the assets all read and write them."""

# On every run a CLI process executes: its pid. A run left STARTED by a CLI
# process that is gone (killed) is failed by the next CLI start.
CLI_PID_TAG = "socialmart/cli_pid"
# On every ingest run: the day snapshot streams (follower counts, ...) are
# recorded under, fixed once per CLI invocation so that a run crossing
# midnight gives every stream the same day.
SNAPSHOT_DATE_TAG = "socialmart/snapshot_date"
# On a nightly ingest run (value: the night's last day, ISO): each channel
# narrows the run's window to its own lookback (orchestration/window.py).
NIGHTLY_TAG = "socialmart/nightly"
# "true" on a build run: publish even when a mart would lose published days (`--allow-shrink`).
ALLOW_SHRINK_TAG = "socialmart/allow_shrink"
