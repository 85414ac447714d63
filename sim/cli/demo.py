"""``prisonsim demo``: start the browser demo (Mesa SolaraViz app :mod:`sim.viz.app`).

Runs ``python -m solara run sim.viz.app`` in a child process with telemetry off, so the
page works offline (with ``solara-assets`` installed nothing is fetched from a CDN).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from sim.cli import UsageError
from sim.config.scenario import load_scenario

DEMO_PACKAGES = ("solara", "solara_assets", "altair", "ipyvuetify")
INSTALL_HINT = "install with: python -m pip install -e '.[demo]'"
APP_MODULE = "sim.viz.app"
DEFAULT_PORT = 8765
DEFAULT_SCENARIO = "teaching_small"
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    "SOLARA_TELEMETRY_SENTRY_ENABLE": "false",
    "SOLARA_THEME_SHOW_BANNER": "false",  # a fixed corner badge that covers the legend
    "SOLARA_THEME_TITLE": "prisonsim demo",
}


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="open the browser demo (facility map, sliders, live charts, policy comparison)",
        description="Start the browser demo on http://HOST:PORT (stop with Ctrl-C). Needs "
        f"the demo extra ({INSTALL_HINT}).",
    )
    demo.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="scenario YAML file, or the name of a shipped one (default teaching_small)",
    )
    demo.add_argument(
        "--scenario", dest="scenario_option", metavar="SCENARIO", help="the same, as an option"
    )
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    demo.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine)")
    demo.set_defaults(handler=cmd_demo)


def missing_packages() -> list[str]:
    """Import names of the demo extra's packages that are not installed."""
    return [name for name in DEMO_PACKAGES if importlib.util.find_spec(name) is None]


def server_command(host: str, port: int) -> list[str]:
    """The child process that serves the app."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
    ]


def server_env(scenario: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for the server: telemetry off, the scenario, ``sim`` importable."""
    env = dict(os.environ if base is None else base)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PRISONSIM_DEMO_SCENARIO"] = scenario
    env.update(OFFLINE_ENV)
    return env


def chosen_scenario(positional: str | None, option: str | None) -> str:
    """The scenario named as ``demo SCENARIO`` or ``demo --scenario SCENARIO``."""
    if positional and option and positional != option:
        raise UsageError(f"two scenarios given ({positional}, --scenario {option}); give one")
    return positional or option or DEFAULT_SCENARIO


def cmd_demo(args: argparse.Namespace) -> int:
    missing = missing_packages()
    if missing:
        raise UsageError(f"the demo needs {', '.join(missing)}; {INSTALL_HINT}")
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is out of range; allowed: 1 to 65535")
    name = chosen_scenario(args.scenario, args.scenario_option)
    scenario = load_scenario(name)  # bad files fail here, one line per mistake
    path = scenario.path or name
    print(f"prisonsim demo: scenario {scenario.name} on http://{args.host}:{args.port}/")
    print("stop with Ctrl-C")
    proc = subprocess.Popen(server_command(args.host, args.port), env=server_env(path))

    def stop(signum: int, frame: object) -> None:  # SIGTERM: take the server down too
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
