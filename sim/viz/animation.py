"""A run as an animation for slides (``prisonsim animate``): GIF always, MP4 with imageio.

Each frame shows the facility map (one pixel per cell, markers for the other agents), the
simulated time, the inmates-by-state chart growing to the current time, the legend and the
scope line. In side-by-side mode two maps, policy A and policy B with the same seed, step
together. Figures are built once and their artists updated per frame (matplotlib, no
pyplot) and drawn over a saved background (blitting), so a frame costs tens of
milliseconds and a teaching run of 100 steps renders in a few seconds.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from sim.model import FacilityModel
from sim.viz.explain import clock, situation
from sim.viz.palette import Look, ground_legend, inmate_looks, marker_legend
from sim.viz.scene import facility_rgb, markers
from sim.viz.svg import LEGEND_NOTE

SCOPE_LINE = (
    "prisonsim: an abstract, non-operational model on a schematic grid (not a real site). "
    "Scenario {scenario}, seed {seed}."
)
MP4_PACKAGES = ("imageio", "imageio_ffmpeg")
MP4_HINT = "install with: python -m pip install -e '.[animate]'"
FORMATS = (".gif", ".mp4")
DPI = 100
_MARKER = {"square": "s", "triangle": "^", "cross": "X"}


def mp4_available() -> bool:
    """Whether imageio and its ffmpeg plugin are installed (the ``animate`` extra)."""
    return all(importlib.util.find_spec(name) is not None for name in MP4_PACKAGES)


@dataclass
class Arm:
    """One animated run: its title and its model."""

    title: str
    model: FacilityModel


@dataclass
class _MapArtists:
    image: Any
    markers: dict[Look, Any]
    caption: Any


@dataclass
class Scene:
    """The figure and the artists a frame updates."""

    figure: Figure
    arms: Sequence[Arm]
    maps: list[_MapArtists] = field(default_factory=list)
    lines: dict[str, Any] = field(default_factory=dict)
    clock_text: Any = None
    background: Any = None  # the static parts, drawn once (blitting)

    def dynamic(self) -> list[Any]:
        """The artists a frame changes (drawn over the saved background)."""
        out = [self.clock_text, *self.lines.values()]
        for m in self.maps:
            out += [m.image, *m.markers.values(), m.caption]
        return out


def _legend(fig: Figure, rect: tuple[float, float, float, float]) -> None:
    """The three legends (ground, inmates, other agents) side by side in ``rect``."""
    groups = (
        ("Ground", ground_legend()),
        ("Inmates (cell colour = most common state)", list(inmate_looks().values())),
        ("Other agents (marker = one or more in the cell)", marker_legend()),
    )
    x0, y0, w, h = rect
    for i, (title, looks) in enumerate(groups):
        handles = [
            Line2D([], [], ls="", marker=_MARKER[k.marker], ms=6, mfc=k.colour, mec="#555")
            if k.marker
            else Patch(facecolor=k.colour, edgecolor="#999")
            for k in looks
        ]
        fig.legend(
            handles,
            [k.text for k in looks],
            title=title,
            loc="upper left",
            bbox_to_anchor=(x0 + i * w / 3, y0 + h),
            ncol=2 if len(looks) > 5 else 1,
            frameon=False,
            fontsize=7,
            title_fontsize=7.5,
            alignment="left",
            handlelength=1.0,
            columnspacing=0.8,
            labelspacing=0.25,
        )
    fig.text(x0, y0, LEGEND_NOTE, fontsize=7, color="#555")


def _map_axes(fig: Figure, rect: tuple[float, float, float, float], arm: Arm) -> _MapArtists:
    ax = fig.add_axes(rect)
    model = arm.model
    image = ax.imshow(facility_rgb(model), interpolation="nearest")
    artists = {}
    for look in {m.look: None for m in markers(model)}:
        artists[look] = ax.scatter(
            [], [], s=28, marker=_MARKER[look.marker], c=look.colour, edgecolors="white", lw=0.5
        )
    ax.set_xlim(-0.5, model.layout.width - 0.5)
    ax.set_ylim(model.layout.height - 0.5, -0.5)
    ax.set_axis_off()
    ax.set_title(arm.title, fontsize=10, loc="left")
    caption = ax.text(0, -0.02, "", transform=ax.transAxes, va="top", fontsize=8)
    return _MapArtists(image, artists, caption)


def _chart_axes(fig: Figure, rect, t_end: float, total: int) -> dict[str, Any]:
    ax = fig.add_axes(rect)
    lines = {}
    for name, look in inmate_looks().items():
        (lines[name],) = ax.plot([], [], color=look.colour, lw=1.6, label=look.text)
    ax.set_xlim(0, max(1.0, t_end))
    ax.set_ylim(0, total)
    ax.set_title("Inmates by state (persons)", fontsize=10, loc="left")
    ax.set_xlabel("hours since the start (h)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return lines


def build_scene(arms: Sequence[Arm], t_end: float, scope: str, title: str = "") -> Scene:
    """The figure: one map and a chart, or two maps side by side; legend and scope line."""
    fig = Figure(figsize=(9.6, 5.4), dpi=DPI)
    FigureCanvasAgg(fig)
    scene = Scene(fig, arms)
    scene.clock_text = fig.text(0.99, 0.965, "", ha="right", fontsize=12, weight="bold")
    fig.text(0.01, 0.965, title, fontsize=12, weight="bold")
    if len(arms) == 1:
        scene.maps.append(_map_axes(fig, (0.01, 0.30, 0.52, 0.60), arms[0]))
        total = len(arms[0].model.inmates.state)
        scene.lines = _chart_axes(fig, (0.60, 0.36, 0.38, 0.52), t_end, total)
    else:
        for i, arm in enumerate(arms):
            scene.maps.append(_map_axes(fig, (0.01 + 0.5 * i, 0.30, 0.47, 0.60), arm))
    _legend(fig, (0.01, 0.05, 0.98, 0.19))
    fig.text(0.01, 0.012, scope, fontsize=7.5, color="#333")
    for artist in scene.dynamic():
        artist.set_animated(True)
    fig.canvas.draw()
    scene.background = fig.canvas.copy_from_bbox(fig.bbox)
    return scene


def draw_frame(scene: Scene) -> np.ndarray:
    """Update every artist to the models' current state; return the RGB frame."""
    first = scene.arms[0].model
    scene.clock_text.set_text(f"{clock(first.t_h)} after the start (step {first.steps})")
    for arm, artists in zip(scene.arms, scene.maps, strict=True):
        artists.image.set_data(facility_rgb(arm.model))
        found = {m.look: m for m in markers(arm.model)}
        for look, scatter in artists.markers.items():
            cells = found.get(look)
            xy = np.column_stack([cells.x, cells.y]) if cells is not None else np.zeros((0, 2))
            scatter.set_offsets(xy)
        state = "" if arm.model.running else " (ended)"
        artists.caption.set_text(situation(arm.model) + state)
    if scene.lines:
        data = first.datacollector.model_vars
        for name, line in scene.lines.items():
            line.set_data(data.get("t_h", []), data.get(name, []))
    canvas = scene.figure.canvas
    canvas.restore_region(scene.background)
    for artist in scene.dynamic():
        scene.figure.draw_artist(artist)
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def frames(
    arms: Sequence[Arm], scope: str, t_end: float, every: int = 1, title: str = ""
) -> Iterator[np.ndarray]:
    """Frames from the start until every arm has ended, one per ``every`` steps."""
    scene = build_scene(arms, t_end, scope, title)
    yield draw_frame(scene)
    while any(a.model.running for a in arms):
        for _ in range(every):
            for arm in arms:
                arm.model.step()  # a no-op once that arm has ended
        yield draw_frame(scene)


def steps_to_end(make: Callable[[], FacilityModel]) -> tuple[int, float]:
    """(steps, hours) of a run to its end (the run is cheap; used to fix the time axis)."""
    model = make()
    model.run_model()
    return model.steps, model.t_h


def gif_palette() -> Image.Image:
    """One palette for every frame: each legend colour exactly, then a 6x6x6 colour cube
    for text and line edges (a palette taken from the first frame would lack the colours
    of states that appear later, and per-frame palettes flicker)."""
    looks = [*ground_legend(), *inmate_looks().values(), *marker_legend()]
    exact = {tuple(round(255 * c) for c in to_rgb(k.colour)) for k in looks}
    exact |= {(255, 255, 255), (0, 0, 0)}
    cube = {
        (r, g, b) for r in range(0, 256, 51) for g in range(0, 256, 51) for b in range(0, 256, 51)
    }
    colours = sorted(exact) + sorted(cube - exact)
    flat = [v for rgb in colours[:256] for v in rgb]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return palette


def write_gif(path: Path, images: Iterator[np.ndarray], fps: float, hold_s: float = 2.0) -> int:
    """Write an animated GIF with Pillow; the last frame is held ``hold_s``. Returns frames."""
    palette = gif_palette()
    quantized = [
        Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE) for rgb in images
    ]
    durations = [round(1000 / fps)] * len(quantized)
    durations[-1] += round(1000 * hold_s)
    quantized[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=quantized[1:],
        duration=durations,
        loop=0,
    )
    return len(quantized)


def write_mp4(path: Path, images: Iterator[np.ndarray], fps: float, hold_s: float = 2.0) -> int:
    """Write an H.264 MP4 with imageio's ffmpeg plugin; the last frame is held ``hold_s``."""
    import imageio.v2 as imageio

    count, last = 0, None
    with imageio.get_writer(path, format="FFMPEG", fps=fps, macro_block_size=2) as writer:
        for rgb in images:
            writer.append_data(rgb)
            count, last = count + 1, rgb
        for _ in range(round(hold_s * fps)):
            writer.append_data(last)
    return count
