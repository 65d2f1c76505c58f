"""The KPI report as a reader sees it: rendered by headless Chromium from a real published file."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.report import report_path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def test_the_report_renders_every_chart_without_errors_and_shows_hostile_text_as_text(published, hostile_caption, tmp_path):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it (make chromium)"
    report = report_path(published.warehouse_dir)
    assert report.exists(), "the publish step wrote no report"
    # Browse a copy: the page must stand alone (no file beside it but the validation report it links to).
    page_file = tmp_path / "index.html"
    shutil.copy(report, page_file)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri(), wait_until="load")

            charts = page.query_selector_all("figure.chart")
            chart_ids = [chart.get_attribute("id") for chart in charts]
            assert set(chart_ids) >= {"chart-spend", "chart-roas", "chart-funnel", "chart-followers",
                                      "chart-content-rate", "chart-content-volume"}
            for chart in charts:
                drawn = chart.evaluate("""figure => {
                    const svg = figure.querySelector('svg');
                    if (!svg) return 0;
                    const box = svg.getBoundingClientRect();
                    const marks = [...svg.querySelectorAll('rect, polyline, circle')]
                        .filter(mark => { const b = mark.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
                    return box.width > 0 && box.height > 0 ? marks.length : 0;
                }""")
                assert drawn > 0, f"chart {chart.get_attribute('id')} drew nothing"
                assert chart.query_selector("figcaption").inner_text().strip()
                assert chart.query_selector_all(".legend li"), f"chart {chart.get_attribute('id')} has no legend"

            assert page.evaluate("typeof window.__pwned") == "undefined"
            content = page.inner_text("#top-content")
            # Shown as text, neither run nor parsed (the part before the right-to-left override reads as sent).
            assert hostile_caption.split("\u202e")[0].strip() in content
            assert "<script>" in content
            assert page.query_selector("#top-content td.caption b") is None
            assert page.inner_text("#quality")  # the data-quality status is there, recorded or not
            assert page.query_selector('#quality a[href="validation.html"]') is not None
            assert [url for url in requests if not url.startswith("file:")] == []  # offline: nothing fetched

            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"report screenshot: {screenshot}")
        finally:
            browser.close()
    assert problems == []
