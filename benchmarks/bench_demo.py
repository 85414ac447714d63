"""The demo's step rate: what a step costs on the server, and what the browser shows.

    PYTHONPATH=. python benchmarks/bench_demo.py [--seconds 5] [--no-browser]

1. Server side, in this process, over one teaching run (medians of per-step times, ms):
   ``model.step()``, the map as SVG, the two charts as SVG (what the page draws every
   step), and for comparison the same map as a matplotlib PNG (what the old page drew).
2. In headless Chromium (``/usr/bin/chromium``) on the real server (``prisonsim demo``'s
   command): the steps per second the page shows while playing, at the default pace
   (10 steps/s) and "as fast as possible". Target: 10 or more at the default pace.
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import time
import urllib.request

from matplotlib.figure import Figure

from sim.cli.demo import server_command, server_env
from sim.config.scenario import load_scenario
from sim.viz.inputs import DemoModel
from sim.viz.scene import facility_rgb
from sim.viz.svg import Line, facility_svg, time_chart_svg

CHROMIUM = "/usr/bin/chromium"


def median_ms(times: list[float]) -> float:
    return 1000 * statistics.median(times)


def server_costs() -> dict[str, float]:
    """Median ms per step of stepping and of each picture, over one teaching run."""
    model = DemoModel(seed=1, **load_scenario("teaching_small").params)
    times: dict[str, list[float]] = {"step": [], "map_svg": [], "charts_svg": [], "map_png": []}
    while model.running:
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        facility_svg(model)
        t2 = time.perf_counter()
        data = model.datacollector.model_vars
        lines = [Line(n, "#000", v) for n, v in data.items() if n.startswith("inmates_")]
        time_chart_svg(data["t_h"], lines, title="")
        time_chart_svg(data["t_h"], [Line("held", "#000", data["share_held"])], title="")
        t3 = time.perf_counter()
        fig = Figure(figsize=(6.4, 4.8))
        fig.add_subplot().imshow(facility_rgb(model), interpolation="nearest")
        fig.savefig(io.BytesIO(), format="png", dpi=100)
        t4 = time.perf_counter()
        for key, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[key].append(dt)
    return {key: median_ms(v) for key, v in times.items()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_rate(url: str, speed: str, seconds: float) -> float:
    """Steps per second the page's map advanced while playing at ``speed``."""
    from playwright.sync_api import sync_playwright

    script = "() => +document.querySelector('.prisonsim-facility').getAttribute('data-step')"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url)
        page.wait_for_selector(".prisonsim-facility", timeout=60_000)
        page.get_by_label("Speed").click(force=True)
        page.get_by_role("option", name=speed).click()
        page.get_by_role("button", name="▶ Play").click()
        t0, s0 = time.monotonic(), page.evaluate(script)
        time.sleep(seconds)
        rate = (page.evaluate(script) - s0) / (time.monotonic() - t0)
        browser.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="play time per measurement (a run is ~100 steps)"
    )
    parser.add_argument("--no-browser", action="store_true", help="server-side costs only")
    args = parser.parse_args()
    costs = server_costs()
    print("server side, median ms per step over one teaching_small run:")
    for key, ms in costs.items():
        print(f"  {key:<11} {ms:7.2f}")
    page_ms = costs["map_svg"] + costs["charts_svg"]
    print(f"  svg pictures vs the old matplotlib map: {costs['map_png'] / page_ms:.0f}x cheaper")
    if args.no_browser:
        return
    port = _free_port()
    proc = subprocess.Popen(
        server_command("127.0.0.1", port),
        env=server_env("teaching_small"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        print(f"browser (headless Chromium, {args.seconds:g} s of play each):")
        for speed in ("10 steps/s", "as fast as possible"):
            print(f"  {speed:<20} {browser_rate(url, speed, args.seconds):5.1f} steps/s")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


if __name__ == "__main__":
    main()
