"""Charts as inline SVG, drawn here in Python: the report needs no script and no CDN.

Each function returns one `<figure class="chart">`: a caption (the title), the
chart drawn twice, for a wide screen and for a phone (the stylesheet shows one
of them: an SVG scaled down to a phone's width would shrink its text to
nothing), and an HTML legend. Each drawing has axes with tick labels and axis
titles, gridlines, the marks and a `<title>` tooltip on every mark. Every text
that reaches the markup goes through `esc`, tick labels included.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PLOT_HEIGHT = 230
TOP, BOTTOM = 14, 58
AXIS_COLOR, GRID_COLOR, TEXT_COLOR = "#8a8f98", "#e6e8eb", "#3c4048"
AVERAGE_CHAR_WIDTH = 6.6  # of the 12 px axis titles, in SVG units

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Layout:
    """The geometry of one drawing of a chart."""

    css_class: str  # "wide" or "narrow": which screens show it (page.STYLE)
    width: int
    left: int  # room for the y tick labels
    right: int
    x_labels: int  # at most this many x tick labels
    category_width: int  # horizontal bars: room for the category labels
    annotation_width: int  # horizontal bars: room for the figures after each bar


LAYOUTS = (Layout("wide", 1080, 78, 24, 12, 150, 190), Layout("narrow", 400, 62, 10, 4, 92, 112))


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
    def draw(layout: Layout) -> str:
        plot = _Plot(layout, len(x_labels), _values(series), y_format)
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
        return plot.svg(title, x_labels, x_title, y_title, "".join(marks))

    return figure(chart_id, title, [draw(layout) for layout in LAYOUTS], [(s.name, s.color) for s in series])


def bar_chart(chart_id: str, title: str, x_labels: Sequence[str], series: Sequence[Series], *,
              x_title: str, y_title: str, y_format: Formatter, stacked: bool = False, log: bool = False) -> str:
    """Bars of non-negative measures per x position: stacked (parts of a total) or side by side
    (compared, optionally on a log scale when the measures differ by orders of magnitude).

    Side by side, a zero or a missing value still gets its place: a "0" or a
    "n/a" at the foot of its bar, so an empty stage is seen, not lost (a log
    scale cannot draw zero)."""
    def draw(layout: Layout) -> str:
        if stacked:
            totals = [sum(v or 0 for v in column) for column in zip(*(s.values for s in series), strict=False)]
            plot = _Plot(layout, len(x_labels), totals, y_format)
        else:
            plot = _Plot(layout, len(x_labels), _values(series), y_format, log=log)
        band = plot.band_width()
        marks = []
        for i, label in enumerate(x_labels):
            base = 0.0
            for k, s in enumerate(series):
                value = s.values[i]
                if stacked:
                    if not value or value < 0:
                        continue
                    top, bottom = plot.y(base + value), plot.y(base)
                    x, width = plot.x_center(i) - band * 0.4, band * 0.8
                    base += value
                else:
                    width = band * 0.8 / len(series)
                    x = plot.x_center(i) - band * 0.4 + k * width
                    if value is None or value <= 0:
                        shown = "n/a" if value is None else y_format(value)
                        marks.append(
                            f'<text class="empty-mark" x="{x + width / 2:.1f}" y="{plot.bottom - 4}" text-anchor="middle" '
                            f'font-size="10" fill="{esc(s.color)}">{esc(shown)}<title>{esc(s.name)} · {esc(label)}: '
                            f'{esc("no data" if value is None else shown)}</title></text>')
                        continue
                    top, bottom = plot.y(value), plot.y(plot.floor)
                marks.append(
                    f'<rect x="{x:.1f}" y="{top:.1f}" width="{max(width - 1, 1):.1f}" height="{max(bottom - top, 0.5):.1f}" '
                    f'fill="{esc(s.color)}"><title>{esc(s.name)} · {esc(label)}: {esc(y_format(value))}</title></rect>')
        return plot.svg(title, x_labels, x_title, y_title, "".join(marks))

    return figure(chart_id, title, [draw(layout) for layout in LAYOUTS], [(s.name, s.color) for s in series])


def horizontal_bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, x_title: str, x_format: Formatter,
                         legend: Sequence[tuple[str, str]]) -> str:
    """One bar per category, longest first as given; the annotation names the exact figures."""
    def draw(layout: Layout) -> str:
        row = 30
        height = TOP + row * len(bars) + BOTTOM
        left, right = layout.category_width, layout.width - layout.annotation_width
        ticks = nice_ticks(0, max((b.value for b in bars), default=0), count=5 if layout.width > 600 else 3)
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
        parts.append(_axis_title(x_title, (left + right) / 2, height - 20, layout.width - 20))
        return _svg(layout, title, height, "".join(parts))

    return figure(chart_id, title, [draw(layout) for layout in LAYOUTS], legend)


def figure(chart_id: str, title: str, drawings: Sequence[str], legend: Sequence[tuple[str, str]]) -> str:
    items = "".join(f'<li><span class="swatch" style="background:{esc(color)}"></span>{esc(name)}</li>'
                    for name, color in legend)
    return (f'<figure class="chart" id="{esc(chart_id)}"><figcaption>{esc(title)}</figcaption>{"".join(drawings)}'
            f'<ul class="legend" aria-label="Legend">{items}</ul></figure>')


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [low, high]
    in about `count` steps; of the candidate steps, the one wasting the least
    room beyond the data (a dip to -50 under a 3,000 peak gets a -500 tick, not -1,000)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    candidates = [m * power for m in (0.5, 1, 2, 2.5, 5, 10, 20)]
    best = None
    for step in candidates:
        first, last = math.floor(low / step), math.ceil(high / step)
        if not count - 1 <= last - first <= count + 2:
            continue
        waste = (last - first) * step - (high - low)
        if best is None or waste < best[0] - 1e-9:
            best = (waste, step, first, last)
    if best is None:  # no candidate gives a sensible count: the coarsest step that covers it
        step = next(s for s in candidates if s >= raw)
        first, last = math.floor(low / step), math.ceil(high / step)
    else:
        _, step, first, last = best
    return [round(k * step, 12) for k in range(first, last + 1)]


class _Plot:
    """The frame of a chart with categorical x positions and a linear or log y axis."""

    def __init__(self, layout: Layout, n: int, values: list[float], y_format: Formatter, log: bool = False) -> None:
        self.layout, self.n, self.y_format, self.log = layout, max(n, 1), y_format, log
        self.left, self.right = layout.left, layout.width - layout.right
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
        # A long daily axis shows every k-th day.
        every = max(1, math.ceil(len(x_labels) / self.layout.x_labels))
        for i, label in enumerate(x_labels):
            if i % every == 0:
                parts.append(f'<text x="{self.x_center(i):.1f}" y="{self.bottom + 18}" text-anchor="middle">{esc(label)}</text>')
        parts.append(f'<line x1="{self.left}" x2="{self.right}" y1="{self.bottom}" y2="{self.bottom}" stroke="{AXIS_COLOR}"/>'
                     f'<line x1="{self.left}" x2="{self.left}" y1="{self.top}" y2="{self.bottom}" stroke="{AXIS_COLOR}"/>')
        parts.append(marks)
        parts.append(_axis_title(x_title, (self.left + self.right) / 2, self.bottom + 40, self.right - self.left))
        middle = (self.top + self.bottom) / 2
        parts.append(f'<text class="axis-title" transform="translate(14 {middle:.1f}) rotate(-90)" '
                     f'text-anchor="middle">{esc(y_title)}{" (log scale)" if self.log else ""}</text>')
        return _svg(self.layout, title, self.bottom + BOTTOM, "".join(parts))


def _axis_title(text: str, x: float, y: float, room: float) -> str:
    """A horizontal axis title, wrapped onto a second line when it would not fit
    `room` pixels (SVG text does not wrap by itself; a phone's drawing is narrow)."""
    per_line = max(int(room / AVERAGE_CHAR_WIDTH), 10)
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > per_line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 14}">{esc(part)}</tspan>' for i, part in enumerate(lines))
    return f'<text class="axis-title" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{spans}</text>'


def _svg(layout: Layout, title: str, height: float, body: str) -> str:
    return (f'<svg class="{layout.css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {layout.width} {height:.0f}" '
            f'width="{layout.width}" height="{height:.0f}" role="img" aria-label="{esc(title)}" font-size="12" '
            f'fill="{TEXT_COLOR}"><title>{esc(title)}</title>{body}</svg>')


def _polyline(points: list[tuple[float, float]], color: str) -> str:
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{coordinates}" fill="none" stroke="{esc(color)}" stroke-width="2"/>'


def _values(series: Sequence[Series]) -> list[float]:
    return [v for s in series for v in s.values if v is not None]


@dataclass
class Node:
    key: str
    label: str  # short, drawn under the node
    detail: str  # the tooltip: id, role, followers
    color: str
    size: float | None  # followers; None draws the smallest node, dashed (unknown)
    central: bool  # drawn in the middle (the core), the others around it


@dataclass
class Edge:
    source: str  # Node.key of the resharer
    target: str  # Node.key of the account it reshared
    weight: float  # reshares: the stroke's width
    detail: str


NETWORK_HEIGHTS = {"wide": 440, "narrow": 400}
NODE_RADIUS = (9.0, 34.0)  # the smallest and the largest node (the most followers)


def network_chart(chart_id: str, title: str, nodes: Sequence[Node], edges: Sequence[Edge], *,
                  legend: Sequence[tuple[str, str]]) -> str:
    """Accounts as circles sized by followers (area proportional), reshares as arrows from the
    resharer to the account it reshared, as wide as their count; the central nodes sit in the
    middle, the others on a ring. Two accounts resharing each other get two arcs, one each way."""
    def draw(layout: Layout) -> str:
        width, height = layout.width, NETWORK_HEIGHTS[layout.css_class]
        positions = _ring_positions(nodes, width, height)
        largest = max((n.size or 0 for n in nodes), default=0) or 1
        radius = {n.key: NODE_RADIUS[0] + (NODE_RADIUS[1] - NODE_RADIUS[0]) * math.sqrt((n.size or 0) / largest)
                  for n in nodes}
        heaviest = max((e.weight for e in edges), default=1) or 1
        pairs = {(e.source, e.target) for e in edges}
        # Arrowheads of one size whatever the stroke (userSpaceOnUse): a heavy edge keeps a small head.
        parts = ['<defs><marker id="{}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" markerHeight="11" '
                 'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker></defs>'
                 .format(esc(f"{chart_id}-{layout.css_class}"), TEXT_COLOR)]
        for e in sorted(edges, key=lambda e: e.weight):
            if e.source not in positions or e.target not in positions:
                continue
            (x1, y1), (x2, y2) = positions[e.source], positions[e.target]
            length = math.hypot(x2 - x1, y2 - y1) or 1
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            # Start and end on the circles' rims; bend sideways when the other direction is drawn too.
            sx, sy = x1 + ux * radius[e.source], y1 + uy * radius[e.source]
            tx, ty = x2 - ux * (radius[e.target] + 2), y2 - uy * (radius[e.target] + 2)
            bend = 0.18 * length if (e.target, e.source) in pairs else 0.0
            if any(_passes_near(positions[k], (x1, y1), (x2, y2), radius[k] + 6)
                   for k in positions if k not in (e.source, e.target)):
                bend = 0.4 * length  # around a node in the way (an outer node to the opposite one)
            cx, cy = (sx + tx) / 2 - uy * bend, (sy + ty) / 2 + ux * bend
            stroke = 1.2 + 7.0 * e.weight / heaviest
            parts.append(f'<path d="M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {tx:.1f},{ty:.1f}" fill="none" '
                         f'stroke="{AXIS_COLOR}" stroke-opacity="0.75" stroke-width="{stroke:.1f}" '
                         f'marker-end="url(#{esc(chart_id)}-{layout.css_class}-arrow)" class="edge">'
                         f'<title>{esc(e.detail)}</title></path>')
        centre = (width / 2, height / 2 - 8)
        labels = []
        for n in nodes:
            x, y = positions[n.key]
            r = radius[n.key]
            dashed = ' stroke-dasharray="3 2"' if n.size is None else ""
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{esc(n.color)}" fill-opacity="0.9" '
                         f'stroke="#ffffff" stroke-width="2"{dashed} class="node"><title>{esc(n.detail)}</title></circle>')
            # Outside the ring for the outer nodes (away from the edges), above the central ones;
            # a white halo keeps a label readable where an edge passes under it.
            dx, dy = x - centre[0], y - centre[1]
            distance = math.hypot(dx, dy)
            if n.central or distance < 1:
                lx, ly, anchor = x, y - r - 8, "middle"
            else:
                lx, ly = x + dx / distance * (r + 8), y + dy / distance * (r + 8) + 4
                anchor = "middle" if abs(dx) < 0.3 * distance else "start" if dx > 0 else "end"
                ly += 8 if dy > 0.7 * distance else -4 if dy < -0.7 * distance else 0
            labels.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" paint-order="stroke" stroke="#ffffff" '
                          f'stroke-width="4" stroke-linejoin="round">{esc(n.label)}</text>')
        parts.extend(labels)
        return _svg(layout, title, height, "".join(parts))

    return figure(chart_id, title, [draw(layout) for layout in LAYOUTS], legend)


def _passes_near(point: tuple[float, float], a: tuple[float, float], b: tuple[float, float], distance: float) -> bool:
    """Whether the segment a-b passes within `distance` of `point`."""
    (px, py), (ax, ay), (bx, by) = point, a, b
    length2 = (bx - ax) ** 2 + (by - ay) ** 2 or 1.0
    t = max(0.0, min(1.0, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length2))
    return math.hypot(px - (ax + t * (bx - ax)), py - (ay + t * (by - ay))) < distance


def _ring_positions(nodes: Sequence[Node], width: int, height: int) -> dict[str, tuple[float, float]]:
    """The central nodes side by side in the middle; the others evenly on a ring, starting at the top."""
    cx, cy = width / 2, height / 2 - 8
    # Room for the labels beside the ring's leftmost and rightmost nodes (a phone's drawing is narrow).
    label_room = max((len(n.label) for n in nodes if not n.central), default=0) * AVERAGE_CHAR_WIDTH + 10
    ring = min(height / 2 - NODE_RADIUS[1] - 26, width / 2 - NODE_RADIUS[1] - label_room)
    central = [n for n in nodes if n.central]
    outer = [n for n in nodes if not n.central]
    positions = {}
    for i, n in enumerate(central):
        offset = (i - (len(central) - 1) / 2) * 2.4 * NODE_RADIUS[1]
        positions[n.key] = (cx + offset, cy)
    for i, n in enumerate(outer):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(outer), 1)
        positions[n.key] = (cx + ring * math.cos(angle), cy + ring * math.sin(angle))
    return positions
