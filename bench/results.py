"""RESULTS.md: every section's figures, the targets met or missed and why,
the machine, and how busy it was while the benchmarks ran."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import dbt_scaling, ingest, make_run, nightly, sandbox_pull


@dataclass
class Report:
    machine: dict[str, str]
    scale: float
    sections: list[str]
    ingest: list[ingest.StreamResults] = field(default_factory=list)
    nightly: nightly.NightlyResults | None = None
    dbt: list[dbt_scaling.BuildResult] = field(default_factory=list)
    sandbox: list[sandbox_pull.PullRun] = field(default_factory=list)
    make_run: make_run.MakeRunResults | None = None
    load: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def markdown(self) -> str:
        m = self.machine
        out = [
            "# socialmart benchmarks",
            "",
            f"Written by `make bench` (`python -m bench --scale {self.scale:g}`) on {m['date']}, "
            f"in {self.seconds / 60:.1f} minutes. Every figure below is from that run; "
            "rerun it to check them (`BENCH_SCALE=0.05 make bench` for a quick look).",
            "",
            "## Machine",
            "",
            f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram']}; {m['os']}",
            f"- Python {m['python']}; duckdb {m['duckdb']}, dlt {m['dlt']}, dagster {m['dagster']} "
            f"(dagster-dbt {m['dagster-dbt']}), dbt-core {m['dbt-core']} (dbt-duckdb {m['dbt-duckdb']}), "
            f"pyarrow {m['pyarrow']}, numpy {m['numpy']}, orjson {m['orjson']}, requests {m['requests']}",
            f"- {self._load_note()}",
            "",
            "## Targets",
            "",
            "| benchmark | target | measured | met |",
            "|---|---|---|:-:|",
            *self._target_rows(),
            "",
        ]
        if self.ingest:
            out += ["## 1. Ingest throughput", "", ingest.__doc__.split("\n\n", 1)[1].strip(), "",
                    ingest.markdown(self.ingest), self._ingest_notes(), ""]
        if self.nightly and self.nightly.seconds:
            out += ["## 2. Nightly incremental: 90 days against 3 years and a 50M-row history", "", nightly.NIGHTLY_METHOD, "",
                    nightly.markdown_nightly(self.nightly), "", self._nightly_notes(), ""]
        if self.dbt:
            out += ["## 3. Full dbt build scaling", "", dbt_scaling.__doc__.split("\n\n", 1)[1].strip(), "",
                    dbt_scaling.markdown(self.dbt), "", self._dbt_notes(), ""]
        if self.nightly and self.nightly.direct_seconds:
            out += ["## 4. Orchestration overhead", "", nightly.OVERHEAD_METHOD, "",
                    nightly.markdown_overhead(self.nightly), "", self._overhead_notes(), ""]
        if self.sandbox:
            out += ["## 5. The API sandbox: a cold 90-day pull", "", sandbox_pull.__doc__.strip(), "",
                    sandbox_pull.markdown(self.sandbox), ""]
        if self.make_run:
            out += ["## 6. `make run`, then again", "", make_run.__doc__.strip(), "", make_run.markdown(self.make_run), ""]
        return "\n".join(out).rstrip() + "\n"

    # ------------------------------------------------------------------ pieces

    def _load_note(self) -> str:
        if not self.load:
            return "machine load: not recorded"
        others = self.load["other_cores_average"]
        busy = "was otherwise busy" if others >= 0.25 else "was otherwise idle"
        return (f"While the benchmarks ran the machine {busy}: other processes used "
                f"{self.load['other_core_seconds'] / 60:.1f} core-minutes ({others:.2f} of the "
                f"{self.machine['cores']} cores on average; 1-minute load average between "
                f"{self.load['load_min']:.1f} and {self.load['load_max']:.1f}). Figures taken on a busy "
                "machine are slower and noisier than on an idle one; ratios measured back to back suffer less.")

    def _target_rows(self) -> list[str]:
        rows = []
        for stream in self.ingest:
            for _, text, ratio, wanted, met in ingest.ratios(stream):  # noqa: B007 - the loop walks the pairs; the name documents them
                rows.append(f"| ingest {stream.plan.name} | {text} | {ratio:.2f}x | {'yes' if met else 'NO'} |")
        n = self.nightly
        if n and n.seconds:
            ratio = min(n.seconds["3 years"]) / min(n.seconds["90 days"])
            rows.append(f"| nightly | 3-year history at most 1.3x the 90-day one | {ratio:.2f}x "
                        f"| {'yes' if ratio <= 1.3 else 'NO'} |")
            if nightly.LARGE_HISTORY in n.seconds:
                large = min(n.seconds[nightly.LARGE_HISTORY]) / min(n.seconds["90 days"])
                rows.append(f"| nightly | {n.raw_rows[nightly.LARGE_HISTORY]:,}-row history at most {nightly.LARGE_TARGET:g}x "
                            f"the 90-day one | {large:.2f}x | {'yes' if large <= nightly.LARGE_TARGET else 'NO'} |")
        built = dbt_scaling.unlimited(self.dbt)
        if len(built) > 1:
            text, met = dbt_scaling.scaling(built)
            rows.append(f"| dbt build | linear or better in raw rows | {text} | {'yes' if met else 'NO'} |")
        if built:
            last = built[-1]
            rows.append(f"| dbt build | peak memory at {last.ad_rows:,} rows within 24 GiB | "
                        f"{last.peak_rss_bytes / 2**30:.2f} GiB | {'yes' if last.peak_rss_bytes < 24 * 2**30 else 'NO'} |")
        if self.dbt and self.dbt[-1].limited:
            last = self.dbt[-1]
            seconds, peak, _ = last.limited
            rows.append(f"| dbt build | completes at {last.ad_rows:,} rows with memory_limit {dbt_scaling.LIMITED_MEMORY} | "
                        f"{seconds:.0f} s, peak {peak / 2**30:.2f} GiB | yes |")
        if n and n.direct_seconds:
            ratio = min(n.dagster_seconds) / min(n.direct_seconds)
            rows.append(f"| orchestration | nightly through Dagster + dbt at most {nightly.OVERHEAD_TARGET:g}x the same work run directly | "
                        f"{ratio:.2f}x | {'yes' if ratio <= nightly.OVERHEAD_TARGET else 'NO'} |")
        if self.sandbox:
            fastest = sandbox_pull.best(self.sandbox)
            rows.append(f"| sandbox | cold 90-day pull (2 Meta accounts + GA4) at most {sandbox_pull.LIMIT_SECONDS:g} s "
                        f"wall and CPU (the former test's limit) | {fastest.wall:.2f} s wall, {fastest.cpu:.2f} s CPU | "
                        f"{'yes' if sandbox_pull.met(self.sandbox) else 'NO'} |")
        if self.make_run:
            first, rerun = make_run.best(self.make_run, "first run"), make_run.best(self.make_run, "rerun")
            rows.append(f"| `make run` | a rerun faster than the first (every rerun than every first run) | best {rerun:.1f} s "
                        f"against {first:.1f} s ({rerun / first:.2f}x) | {'yes' if make_run.rerun_faster(self.make_run) else 'NO'} |")
        return rows

    def _ingest_notes(self) -> str:
        lines = ["Where the time goes (CPU microseconds per row, client process):", ""]
        for stream in self.ingest:
            r = stream.results
            per_row = {name: res.timing.cpu / res.rows * 1e6 for name, res in r.items() if res.rows}
            serve = r["serve"]
            lines.append(
                f"- {stream.plan.name}: " + ", ".join(f"{name} {us:.1f}" for name, us in per_row.items())
                + f". The sandbox spent {serve.server_cpu / serve.rows * 1e6:.1f} us of its own CPU per row served; "
                f"socialmart ran at {r['socialmart'].rows_per_second / serve.rows_per_second:.0%} of the sandbox's serving rate."
            )
        lines += [
            "",
            "What each contender does per row differs, and the table should be read with that in mind: socialmart "
            "types every column (dates, decimals, integers, each checked, a bad value quarantined with its record), "
            "picks the one canonical conversion action type, and keeps the whole original record as JSON "
            "(`_record`); the floor and dlt's fastest setup keep the API's rows as they come (strings, nested "
            "lists) and type nothing; dlt's default setup normalises every nested list into child tables "
            "(each GA4 row's ten positional values become ten child-table rows), which is where its time goes.",
        ]
        return "\n".join(lines)

    def _nightly_notes(self) -> str:
        n = self.nightly
        labels = list(n.seconds)
        lines = [
            "Where the fastest night of each went:",
            "",
            "| part | " + " | ".join(f"{label} (s)" for label in labels) + " |",
            "|---|" + "---:|" * len(labels),
        ]
        for part in n.parts["90 days"]:
            lines.append(f"| {part} | " + " | ".join(f"{n.parts[label].get(part, 0.0):.1f}" for label in labels) + " |")
        lines += [
            "",
            "Every night re-pulls the same lookback windows: the same API calls and rows. What a night builds "
            "and checks follows the days it re-pulled: the daily ad models (int_ads__campaign_daily, the two "
            "daily facts, and the channel-day and campaign-month sums the weekly scorecard and the campaign "
            "summary add up) merge only the rebuilt days (macros/incremental_days.sql), the staging models' "
            "latest-pull windows are filtered by day before they run, and the data tests and audits of those "
            "models check the rebuilt days (int_ads__rebuilt_days). What still reads every row: the raw "
            "freshness check (the latest day per account) and scans of one column (the rebuilt days' delete, "
            "dim_date's bounds).",
        ]
        return "\n".join(lines)

    def _dbt_notes(self) -> str:
        built = dbt_scaling.unlimited(self.dbt)
        last = built[-1]
        slowest = ", ".join(name for name, _ in last.slowest[:3])
        text = (f"Most of the time at the largest size goes to the few models that read every ad row ({slowest}): "
                "the staging models keep the latest pull of each key (a window over the whole table), the ad "
                "marts join every campaign-day to its account, campaign and day's FX rates (the funnel also to "
                "GA4 sessions), and the restatements mart windows over every version; each is rebuilt whole.")
        if len(built) > 1 and not dbt_scaling.scaling(built)[1]:
            text += (" Their cost per row rises once their sorts, windows and hash joins no longer fit in DuckDB's "
                     "memory limit and spill to disk, which is what the peak memory reaching that limit shows. "
                     "What would keep it linear: incremental marts (only the days a night re-pulls are rebuilt, "
                     "so no build reads 50M rows at once), and more memory for DuckDB on machines that have it.")
        return text

    def _overhead_notes(self) -> str:
        n = self.nightly
        dagster, direct, started = n.dagster_parts, n.direct_parts, n.dbt_started_parts
        dbt_key = "dbt step (dbt build via dagster-dbt)"
        ingest_key = "ingest steps (pull + land, one per stream)"
        outside_key = "outside the steps (definitions, run and event bookkeeping)"
        return (
            f"The same work costs the direct path {sum(direct.values()):.0f} s. Through Dagster the ingest steps took "
            f"{dagster.get(ingest_key, 0):.1f} s against {direct.get('pulls', 0):.1f} s of pulls (one unpartitioned "
            "step per stream, each paying its start, its DuckDB connection and its events), the audit steps "
            f"{dagster.get('audit steps', 0):.1f} s against {direct.get('audit', 0):.1f} s, and everything outside "
            f"the steps (definitions, run and event bookkeeping) {dagster.get(outside_key, 0):.1f} s. "
            f"The dbt step replayed the last build's SQL in {dagster.get(dbt_key, 0):.1f} s, against "
            f"{direct.get('dbt SQL', 0):.1f} s for the same SQL directly; started, dbt took "
            f"{started.get(dbt_key, 0):.1f} s: it starts, reads its partial parse and pays per node (Jinja, "
            "compiling, connection, metadata queries, run artifacts) for 400+ models and tests in Python. A night "
            "pays that only after a change to the project, the dbt or DuckDB version or the warehouse's catalog "
            "(orchestration/dbt_replay.py: the build then records its SQL for the nights after it)."
        )
