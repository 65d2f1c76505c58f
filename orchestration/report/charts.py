"""Charts as inline SVG, drawn here in Python: the report needs no script and no CDN.

Each function returns one `<figure class="chart">`: a caption (the title), the
SVG (axes with tick labels and axis titles, gridlines, the marks, a `<title>`
tooltip on every mark) and an HTML legend. Every text that reaches the markup
goes through `esc`, tick labels included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Callable, Sequence

WIDTH = 1080
PLOT_HEIGHT = 230
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 14, 58
AXIS_COLOR, GRID_COLOR, TEXT_COLOR = "#8a8f98", "#e6e8eb", "#3c4048"

Formatter = Callable[[float], str]


def esc(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass
class Series:
    name: str
    color: str
    values: Sequence[float | None]


@dataclass
class Bar:
    label: str
    value: float
    annotation: str  # printed at the end of the bar, e.g. "3.2% · 14 posts"
    color: str


def line_chart(chart_id: str, title: str, x_labels: Sequence[str], series: Sequence[Series], *,
               x_title: str, y_title: str, y_format: Formatter) -> str:
    """One line per series over shared x positions; None leaves a gap."""
    plot = _Plot(len(x_labels), _values(series), y_format)
    marks = []
    for s in series:
        path, points = [], []
        for i, value in enumerate(s.values):
            if value is None:
                if path:
                    marks.append(_polyline(path, s.color))
                path = []
                continue
            x, y = plot.x_center(i), plot.y(value)
            path.append((x, y))
            points.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{esc(s.color)}">'
                          f'<title>{esc(s.name)} · {esc(x_labels[i])}: {esc(y_format(value))}</title></circle>')
        if path:
            marks.append(_polyline(path, s.color))
        marks.extend(points)
    svg = plot.svg(title, x_labels, x_title, y_title, "".join(marks))
    return figure(chart_id, title, svg, [(s.name, s.color) for s in series])


def bar_chart(chart_id: str, title: str, x_labels: Sequence[str], series: Sequence[Series], *,
              x_title: str, y_title: str, y_format: Formatter, stacked: bool = False, log: bool = False) -> str:
    """Bars of non-negative measures per x position: stacked (parts of a total) or side by side
    (compared, optionally on a log scale when the measures differ by orders of magnitude)."""
    if stacked:
        totals = [sum(v or 0 for v in column) for column in zip(*(s.values for s in series))]
        plot = _Plot(len(x_labels), totals, y_format)
    else:
        plot = _Plot(len(x_labels), _values(series), y_format, log=log)
    band = plot.band_width()
    marks = []
    for i, label in enumerate(x_labels):
        base = 0.0
        for k, s in enumerate(series):
            value = s.values[i]
            if value is None or value <= 0:
                continue
            if stacked:
                top, bottom = plot.y(base + value), plot.y(base)
                x, width = plot.x_center(i) - band * 0.4, band * 0.8
                base += value
            else:
                width = band * 0.8 / len(series)
                x = plot.x_center(i) - band * 0.4 + k * width
                top, bottom = plot.y(value), plot.y(plot.floor)
            marks.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{max(width - 1, 1):.1f}" height="{max(bottom - top, 0.5):.1f}" '
                f'fill="{esc(s.color)}"><title>{esc(s.name)} · {esc(label)}: {esc(y_format(value))}</title></rect>')
    svg = plot.svg(title, x_labels, x_title, y_title, "".join(marks))
    return figure(chart_id, title, svg, [(s.name, s.color) for s in series])


def horizontal_bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, x_title: str, x_format: Formatter,
                         legend: Sequence[tuple[str, str]]) -> str:
    """One bar per category, longest first as given; the annotation names the exact figures."""
    row, label_width, annotation_width = 30, 150, 190
    height = TOP + row * len(bars) + BOTTOM
    left, right = label_width, WIDTH - annotation_width
    ticks = nice_ticks(0, max((b.value for b in bars), default=0))
    scale = (right - left) / (ticks[-1] or 1)
    parts = []
    for tick in ticks:
        x = left + tick * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - BOTTOM}" stroke="{GRID_COLOR}"/>'
                     f'<text x="{x:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle">{esc(x_format(tick))}</text>')
    for i, bar in enumerate(bars):
        y = TOP + i * row
        width = max(bar.value * scale, 1)
        parts.append(
            f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{esc(bar.label)}</text>'
            f'<rect x="{left}" y="{y + 5}" width="{width:.1f}" height="{row - 10}" fill="{esc(bar.color)}">'
            f'<title>{esc(bar.label)}: {esc(bar.annotation)}</title></rect>'
            f'<text x="{left + width + 6:.1f}" y="{y + row / 2 + 4:.1f}">{esc(bar.annotation)}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{TOP}" y2="{height - BOTTOM}" stroke="{AXIS_COLOR}"/>')
    parts.append(f'<text class="axis-title" x="{(left + right) / 2:.1f}" y="{height - 12}" text-anchor="middle">{esc(x_title)}</text>')
    return figure(chart_id, title, _svg(title, height, "".join(parts)), legend)


def figure(chart_id: str, title: str, svg: str, legend: Sequence[tuple[str, str]]) -> str:
    items = "".join(f'<li><span class="swatch" style="background:{esc(color)}"></span>{esc(name)}</li>'
                    for name, color in legend)
    return (f'<figure class="chart" id="{esc(chart_id)}"><figcaption>{esc(title)}</figcaption>{svg}'
            f'<ul class="legend" aria-label="Legend">{items}</ul></figure>')


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [k * step for k in range(first, last + 1)]


class _Plot:
    """The frame of a chart with categorical x positions and a linear or log y axis."""

    def __init__(self, n: int, values: list[float], y_format: Formatter, log: bool = False) -> None:
        self.n, self.y_format, self.log = max(n, 1), y_format, log
        self.left, self.right = LEFT, WIDTH - RIGHT
        self.top, self.bottom = TOP, TOP + PLOT_HEIGHT
        if log:
            positive = [v for v in values if v > 0] or [1.0]
            low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
            self.ticks = [10.0 ** k for k in range(low, max(high, low + 1) + 1)]
        else:
            self.ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]))
        self.floor = self.ticks[0]

    def band_width(self) -> float:
        return (self.right - self.left) / self.n

    def x_center(self, i: int) -> float:
        return self.left + (i + 0.5) * self.band_width()

    def y(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        if self.log:
            share = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
        else:
            share = (value - low) / (high - low)
        return self.bottom - share * (self.bottom - self.top)

    def svg(self, title: str, x_labels: Sequence[str], x_title: str, y_title: str, marks: str) -> str:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID_COLOR}"/>'
                         f'<text x="{self.left - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(self.y_format(tick))}</text>')
        # At most ~12 x labels: a long daily axis shows every k-th day.
        every = max(1, math.ceil(len(x_labels) / 12))
        for i, label in enumerate(x_labels):
            if i % every == 0:
                parts.append(f'<text x="{self.x_center(i):.1f}" y="{self.bottom + 18}" text-anchor="middle">{esc(label)}</text>')
        parts.append(f'<line x1="{self.left}" x2="{self.right}" y1="{self.bottom}" y2="{self.bottom}" stroke="{AXIS_COLOR}"/>'
                     f'<line x1="{self.left}" x2="{self.left}" y1="{self.top}" y2="{self.bottom}" stroke="{AXIS_COLOR}"/>')
        parts.append(marks)
        parts.append(f'<text class="axis-title" x="{(self.left + self.right) / 2:.1f}" y="{self.bottom + 44}" '
                     f'text-anchor="middle">{esc(x_title)}</text>')
        middle = (self.top + self.bottom) / 2
        parts.append(f'<text class="axis-title" transform="translate(16 {middle:.1f}) rotate(-90)" '
                     f'text-anchor="middle">{esc(y_title)}{" (log scale)" if self.log else ""}</text>')
        return _svg(title, self.bottom + BOTTOM, "".join(parts))


def _svg(title: str, height: float, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
            f'height="{height:.0f}" role="img" aria-label="{esc(title)}" font-size="12" fill="{TEXT_COLOR}">'
            f'<title>{esc(title)}</title>{body}</svg>')


def _polyline(points: list[tuple[float, float]], color: str) -> str:
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{coordinates}" fill="none" stroke="{esc(color)}" stroke-width="2"/>'


def _values(series: Sequence[Series]) -> list[float]:
    return [v for s in series for v in s.values if v is not None]
