"""The KPI report and the validation page as a reader sees them: rendered by
headless Chromium from a real published file, at a desktop and a phone width."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.report import report_path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 420, "height": 860}
EXPECTED_CHARTS = {"chart-spend", "chart-roas", "chart-funnel", "chart-followers", "chart-content-rate", "chart-content-volume",
                   "chart-matrix-northwind_global"}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it (make chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(published, tmp_path_factory) -> Path:
    """A copy of the report directory: the page must stand alone (no file beside it
    but the validation report it links to)."""
    folder = tmp_path_factory.mktemp("report_copy")
    report = report_path(published.warehouse_dir)
    assert report.exists(), "the publish step wrote no report"
    shutil.copy(report, folder / "index.html")
    shutil.copy(published.validation_report, folder / "validation.html")
    return folder


def _open(browser, url: str, viewport: dict, problems: list[str], requests: list[str]):
    page = browser.new_page(viewport=viewport)
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url, wait_until="load")
    return page


def _drawn_charts(page) -> dict[str, dict]:
    """Per chart: how many marks its visible drawing shows, and the size its 12 px text is drawn at."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('figure.chart')].map(figure => {
        const svg = [...figure.querySelectorAll('svg')].find(s => s.getBoundingClientRect().width > 0);
        if (!svg) return [figure.id, {marks: 0, text_px: 0, caption: '', legend: 0}];
        const marks = [...svg.querySelectorAll('rect, polyline, circle, text.empty-mark')]
            .filter(mark => { const b = mark.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return [figure.id, {marks: marks.length, text_px: 12 * scale, caption: figure.querySelector('figcaption').innerText,
                            legend: figure.querySelectorAll('.legend li').length}];
    }))""")


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_the_report_renders_every_chart_without_errors_and_shows_hostile_text_as_text(browser, pages, hostile_caption, tmp_path):
    problems, requests = [], []
    page = _open(browser, (pages / "index.html").as_uri(), DESKTOP, problems, requests)
    charts = _drawn_charts(page)
    assert set(charts) >= EXPECTED_CHARTS
    for chart_id, chart in charts.items():
        assert chart["marks"] > 0, f"chart {chart_id} drew nothing"
        assert chart["caption"].strip() and chart["legend"], chart_id

    assert page.evaluate("typeof window.__pwned") == "undefined"
    content = page.inner_text("#top-content")
    # Shown as text, neither run nor parsed (the part before the right-to-left override reads as sent).
    assert hostile_caption.split("\u202e")[0].strip() in content
    assert "<script>" in content
    assert page.query_selector("#top-content td.caption b") is None
    assert page.inner_text("#quality")  # the data-quality status is there, recorded or not
    assert page.query_selector('#quality a[href="validation.html"]') is not None
    assert _overflow(page) == 0
    assert [url for url in requests if not url.startswith("file:")] == []  # offline: nothing fetched
    page.screenshot(path=str(tmp_path / "report-desktop.png"), full_page=True)
    print(f"report screenshots: {tmp_path}")
    assert problems == []


def test_on_a_phone_the_report_fits_the_screen_and_its_charts_stay_readable(browser, pages, tmp_path):
    problems, requests = [], []
    page = _open(browser, (pages / "index.html").as_uri(), PHONE, problems, requests)
    assert _overflow(page) == 0, "the page is wider than the phone: something does not wrap or scroll in its box"
    charts = _drawn_charts(page)
    assert set(charts) >= EXPECTED_CHARTS
    for chart_id, chart in charts.items():
        assert chart["marks"] > 0, f"chart {chart_id} drew nothing on a phone"
        assert chart["text_px"] >= 9, f"chart {chart_id}'s text is {chart['text_px']:.1f} px on a phone"
    page.screenshot(path=str(tmp_path / "report-phone.png"), full_page=True)
    assert problems == []


def test_chinese_text_and_emoji_render_as_glyphs_not_boxes(browser, pages):
    """A missing glyph renders as the same empty box whatever the character: two
    different characters drawn alike mean the font is missing."""
    page = _open(browser, (pages / "index.html").as_uri(), DESKTOP, [], [])
    assert "春季大促" in page.inner_text("#top-campaigns")  # the demo's Chinese campaign names are there to see
    cell = page.query_selector("#top-campaigns td bdi")
    shots = {}
    for text in ("春", "夏", "🌲", "🎁"):
        cell.evaluate("(cell, text) => { cell.innerHTML = ''; const s = document.createElement('span');"
                      " s.id = 'glyph'; s.textContent = text; s.style.fontSize = '32px'; cell.appendChild(s); }", text)
        shots[text] = page.query_selector("#glyph").screenshot()
    assert shots["春"] != shots["夏"], "CJK characters render as identical boxes: no CJK font (make chromium installs it)"
    assert shots["🌲"] != shots["🎁"], "emoji render as identical boxes: no emoji font (make chromium installs it)"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_validation_page_fits_the_screen(browser, pages, viewport, tmp_path):
    problems, requests = [], []
    page = _open(browser, (pages / "validation.html").as_uri(), viewport, problems, requests)
    assert _overflow(page) == 0
    assert page.query_selector("details.layer") is not None  # checks grouped by layer
    page.screenshot(path=str(tmp_path / "validation.png"), full_page=True)
    assert problems == [] and [url for url in requests if not url.startswith("file:")] == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_account_matrix_draws_the_family_as_the_marts_say(browser, pages, published, viewport):
    """One circle per family account, sized by its followers; one arrow per edge of the month drawn; the month's
    pattern and the rule that decided it beside the graph."""
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        months = con.execute("SELECT reshare_month, pattern, pattern_rule, reshares FROM marts.dim_account_family_monthly "
                             "WHERE family = 'northwind_global' ORDER BY reshare_month DESC").fetchall()
        drawn = next((m for m in months if m[1] != "isolated"), next(m for m in months if m[3]))
        edges = con.execute("SELECT count(*) FROM marts.fct_account_matrix_monthly WHERE family = 'northwind_global' "
                            "AND reshare_month = ?", [drawn[0]]).fetchone()[0]
        followers = dict(con.execute("SELECT account_id, arg_max(followers, date_day) FROM marts.fct_audience_daily "
                                     "WHERE channel = 'x' AND followers IS NOT NULL GROUP BY ALL").fetchall())
    problems: list[str] = []
    page = _open(browser, (pages / "index.html").as_uri(), viewport, problems, [])
    graph = page.evaluate("""() => {
        const figure = document.querySelector('#chart-matrix-northwind_global');
        const svg = [...figure.querySelectorAll('svg')].find(s => s.getBoundingClientRect().width > 0);
        const visible = el => { const b = el.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
        return {nodes: [...svg.querySelectorAll('circle.node')].filter(visible).map(c => [
                    c.querySelector('title').textContent, c.getBoundingClientRect().width]),
                // a straight vertical or horizontal arrow has a zero-width (or zero-height) box
                edges: [...svg.querySelectorAll('path.edge')].filter(p => { const b = p.getBoundingClientRect();
                                                                          return b.width > 0 || b.height > 0; }).length,
                labels: [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect()),
                width: svg.getBoundingClientRect()};
    }""")
    assert len(graph["nodes"]) == 5 and graph["edges"] == edges > 0
    size = {next(a for a in followers if a in title): width for title, width in graph["nodes"]}
    by_followers = sorted(size, key=lambda a: followers[a])
    assert [size[a] for a in by_followers] == sorted(size.values()), "circle sizes do not follow the followers"
    box = graph["width"]
    assert all(box["left"] - 1 <= label["left"] and label["right"] <= box["right"] + 1 for label in graph["labels"]), \
        "a node label is cut off at the drawing's edge"
    text = page.inner_text("#family-northwind_global")
    assert drawn[1] in text and drawn[2] in text
    assert "Reach added by the family" in text and "Median reshare lag" in text
    assert problems == []
