"""How the report and the validation page draw: axes, colours, empty stages, grouping (no warehouse needed)."""

from __future__ import annotations

import itertools
import re

from orchestration.quality.results import CheckResult
from orchestration.quality.validation_report import layer_of, render
from orchestration.report.charts import LAYOUTS, Series, bar_chart, nice_ticks
from orchestration.report.data import CHANNEL_COLORS, SPARE_COLORS


def _lab(color: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB hex colour: distances in it follow what the eye sees."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(int(color[i:i + 2], 16) / 255) for i in (1, 3, 5))
    x, y, z = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def test_every_channel_colour_is_clearly_different_from_every_other():
    colours = {**CHANNEL_COLORS, **{f"spare{i}": c for i, c in enumerate(SPARE_COLORS)}}
    close = [(a, b, round(sum((p - q) ** 2 for p, q in zip(_lab(colours[a]), _lab(colours[b]), strict=False)) ** 0.5))
             for a, b in itertools.combinations(colours, 2)
             if sum((p - q) ** 2 for p, q in zip(_lab(colours[a]), _lab(colours[b]), strict=False)) ** 0.5 < 20]
    assert close == []  # (X and YouTube were 10 apart: brown against grey)


def test_an_axis_does_not_reach_far_below_the_data():
    assert nice_ticks(0, 2858)[0] == 0  # nothing negative: the axis starts at zero
    assert nice_ticks(-50, 3000)[0] == -500  # a small dip gets a small step below zero, not -1,000
    assert nice_ticks(0, 0.6)[2] == 0.2 and all(t == round(t, 12) for t in nice_ticks(0, 0.6))


def test_an_empty_funnel_stage_is_marked_not_left_blank():
    html = bar_chart("f", "Funnel", ["Clicks", "Sessions"], [Series("TikTok", "#6a3d9a", [100, 0]),
                                                            Series("LinkedIn", "#009e73", [50, None])],
                     x_title="stage", y_title="count", y_format=str, log=True)
    for drawing in re.findall(r"<svg.*?</svg>", html):
        assert drawing.count("<rect") == 2  # the two positive bars
        assert "TikTok · Sessions: 0" in drawing and "LinkedIn · Sessions: no data" in drawing


def test_every_chart_is_drawn_for_a_wide_screen_and_for_a_phone():
    html = bar_chart("s", "Spend", ["a", "b"], [Series("Meta", "#0072b2", [1, 2])], x_title="day", y_title="spend",
                     y_format=str, stacked=True)
    assert re.findall(r'<svg class="(\w+)"', html) == [layout.css_class for layout in LAYOUTS] == ["wide", "narrow"]


def _check(asset: str, name: str, passed: bool = True, severity: str = "ERROR") -> CheckResult:
    return CheckResult(asset, name, "dbt_test", passed, severity, True, f"{name} on {asset}")


def test_the_validation_page_puts_problems_first_and_folds_passes_by_layer_and_asset():
    results = [_check(f"staging/stg_x__posts_{i}", f"not_null_{i}") for i in range(300)]
    results += [_check("marts/fct_kpi_weekly", "unique_week", passed=False),
                _check("raw_ga4/ga4__traffic", "volume_anomaly", passed=False, severity="WARN"),
                _check("seeds/channels", "unique_channel")]
    page = render(results, ["run-1"], [])
    attention = page.index("Needs attention (2)")
    assert attention < page.index("unique_week") < page.index("volume_anomaly") < page.index("Every check, by layer")
    layers = re.findall(r"<details class=layer( open)?><summary>([^<]+)", page)
    assert layers == [(" open", "Raw tables (as the APIs sent them) "), ("", "Seeds (lookups) "), ("", "Staging "),
                      (" open", "Marts ")]  # only layers with a problem start unfolded
    assert "(300 passed)" in page
    assert "<div class='tile '><b>0</b>step errors</div>" in page  # zero is not painted red
    assert "<div class='tile fail'><b>1</b>failed</div>" in page
    assert [layer_of(a) for a in ("raw_x/x__posts", "seeds/channels", "marts/dim_date", "published/marketing_duckdb")] == \
        ["raw", "seeds", "marts", "published"]
