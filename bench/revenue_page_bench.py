"""Benchmark: what the revenue page costs a browser, first visit and next visit, in Chromium.

Builds a SQLite database with the demo data (`flask db upgrade`, `flask seed-demo`), serves the app on
a local port and opens the accountant's revenue page in Debian's Chromium through Playwright, each
first visit in a fresh browser context (empty cache), each next visit in the same context. For each
visit it prints the time until the four charts are drawn (from the start of the navigation, read in
the page), what the Plotly script transferred and what the page transferred in all (Resource Timing).

    .venv/bin/python bench/revenue_page_bench.py [--runs 5] [--mbps 20] [--baseline]

--mbps also times each visit over a link of that bandwidth and 20 ms of latency (Chromium's network
emulation): on 127.0.0.1 size hardly shows, over a real link it does. --baseline first times the
former script, Plotly's full bundle (what plotly.py ships) sent uncompressed, on the same machine.
Times vary with the load of the machine (printed); sizes do not.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from tutoradmin import create_app, vendor_assets

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
ACCOUNT, PASSWORD = "comptable@4as.ca", "demo-4as-tutorat"
PAGE = "/admin/compta/revenus/"
CHARTS = 4
#: Drawn: every chart has its plot area, so hover and zoom answer.
DRAWN = f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTS} * 2"
MEASURES = """() => {
    const [nav] = performance.getEntriesByType('navigation');
    const resources = performance.getEntriesByType('resource');
    const plotly = resources.find(r => r.name.includes('/vendor/plotly/'));
    const transferred = [nav, ...resources].reduce((sum, r) => sum + r.transferSize, 0);
    return {
        ms: performance.now(),
        plotly_transfer: plotly ? plotly.transferSize : null,
        plotly_decoded: plotly ? plotly.decodedBodySize : null,
        page_transfer: transferred,
    };
}"""


def build_app(folder):
    """The app on a fresh SQLite database holding the demo data."""
    url = f"sqlite:///{folder / 'revenue_page_bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["seed-demo"]):
        result = runner.invoke(args=args)
        if result.exit_code:
            sys.exit(f"flask {' '.join(args)} failed:\n{result.output}")
    return app


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def use_full_bundle():
    """The former script: plotly.py's full Plotly.js, never compressed."""
    import plotly.offline

    full = (plotly.offline.get_plotlyjs() + "\n").encode()
    locale = (Path(__file__).resolve().parent.parent / "static/vendor/plotly/plotly-locale-fr.js").read_bytes()
    original_content, original_gzip = vendor_assets._content, vendor_assets._accepts_gzip
    content = vendor_assets.Content(full + locale, "full-bundle-0000")
    vendor_assets._content = lambda bundle, folder: content
    vendor_assets._accepts_gzip = lambda: False

    def restore():
        vendor_assets._content, vendor_assets._accepts_gzip = original_content, original_gzip

    return restore


def visit(page, url):
    page.goto(url, wait_until="commit")
    page.wait_for_function(DRAWN, polling="raf", timeout=60_000)
    return page.evaluate(MEASURES)


def run(browser, base, runs, mbps):
    """First and next visit, `runs` times, each in a fresh context: lists of measures."""
    first, second = [], []
    for _ in range(runs):
        context = browser.new_context(locale="fr-CA", timezone_id="America/Toronto")
        page = context.new_page()
        page.goto(f"{base}/connexion")
        page.fill("input[name=email]", ACCOUNT)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        if mbps:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            bytes_per_s = mbps * 1_000_000 / 8
            cdp.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 20, "downloadThroughput": bytes_per_s, "uploadThroughput": bytes_per_s},
            )
        first.append(visit(page, base + PAGE))
        page.goto(f"{base}/admin/")
        second.append(visit(page, base + PAGE))
        context.close()
    return first, second


def kb(value):
    return "—" if value is None else f"{value / 1000:,.0f} kB".replace(",", " ")


def report(label, first, second):
    for name, measures in (("first visit", first), ("next visit", second)):
        times = sorted(m["ms"] for m in measures)
        print(
            f"{label:<44} {name:<12} charts drawn: median {statistics.median(times):6.0f} ms, "
            f"max {times[-1]:6.0f} ms | Plotly transferred {kb(measures[0]['plotly_transfer'])}"
            f" (decoded {kb(measures[0]['plotly_decoded'])}) | page transferred {kb(measures[0]['page_transfer'])}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mbps", type=float, default=20, help="emulated bandwidth, 0 for none")
    parser.add_argument("--baseline", action="store_true", help="also time the former full, uncompressed bundle")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit("Chromium not found (apt-get install chromium, or CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        server, base = serve(app)
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {args.runs} runs each")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
                )
                variants = [("basic bundle + fr, gzip", None)]
                if args.baseline:
                    variants.insert(0, ("former full bundle, uncompressed", use_full_bundle))
                for label, setup in variants:
                    restore = setup() if setup else None
                    try:
                        for mbps in [0] + ([args.mbps] if args.mbps else []):
                            network = f"{mbps:g} Mbit/s" if mbps else "127.0.0.1"
                            report(f"{label}, {network}", *run(browser, base, args.runs, mbps))
                    finally:
                        if restore:
                            restore()
                browser.close()
        finally:
            server.shutdown()
        print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
