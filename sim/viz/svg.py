"""The browser page's pictures as small SVG strings: map, time charts, run distributions.

Drawing a matplotlib figure and encoding a PNG on every step costs about a tenth of a
second; these strings take about a millisecond, stay sharp at any size (a projector) and
are a few kilobytes, so the page can play ten or more steps a second. The map's ground is a
PNG of one pixel per cell, scaled up without smoothing; agents are SVG symbols on top.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from PIL import Image

from sim.model import FacilityModel
from sim.viz.palette import Look, ground_legend, inmate_looks, marker_legend
from sim.viz.scene import facility_rgb, markers

FONT = "font-family: Roboto, Helvetica, Arial, sans-serif"


def png_data_url(rgb: np.ndarray) -> str:
    """A (h, w, 3) float image as a ``data:image/png`` URL."""
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8), "RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def marker_path(shape: str, x: float, y: float) -> str:
    """SVG path data of one marker centred in cell (x, y) (cell units)."""
    cx, cy = x + 0.5, y + 0.5
    if shape == "square":
        return f"M{cx - 0.32:.2f} {cy - 0.32:.2f}h0.64v0.64h-0.64z"
    if shape == "triangle":
        return f"M{cx:.2f} {cy - 0.4:.2f}l0.4 0.72h-0.8z"
    d = 0.3  # cross
    return f"M{cx - d:.2f} {cy - d:.2f}l{2 * d} {2 * d}M{cx + d:.2f} {cy - d:.2f}l{-2 * d} {2 * d}"


def _marker_element(look: Look, xs: np.ndarray, ys: np.ndarray) -> str:
    if not len(xs):
        return ""
    d = "".join(marker_path(look.marker, x, y) for x, y in zip(xs, ys, strict=True))
    if look.marker == "cross":
        return (
            f'<path d="{d}" stroke="white" stroke-width="0.42" stroke-linecap="round"/>'
            f'<path d="{d}" stroke="{look.colour}" stroke-width="0.22" stroke-linecap="round"/>'
        )
    return f'<path d="{d}" fill="{look.colour}" stroke="white" stroke-width="0.08"/>'


def facility_svg(model: FacilityModel, css_class: str = "prisonsim-facility") -> str:
    """The facility map: ground and inmates as a scaled-up PNG, other agents as markers."""
    w, h = model.layout.width, model.layout.height
    parts = [
        f'<svg class="{css_class}" viewBox="0 0 {w} {h}" width="100%" '
        f'data-step="{model.steps}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="facility map at step {model.steps}">',
        f'<image href="{png_data_url(facility_rgb(model))}" x="0" y="0" width="{w}" '
        f'height="{h}" preserveAspectRatio="none" style="image-rendering: pixelated"/>',
    ]
    parts += [_marker_element(m.look, m.x, m.y) for m in markers(model)]
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- legend


def swatch(look: Look) -> str:
    """A small inline SVG sample of a legend entry (a filled square or a marker)."""
    if look.marker:
        body = _marker_element(look, np.array([0]), np.array([0]))
        return f'<svg viewBox="0 0 1 1" width="13" height="13" class="sw">{body}</svg>'
    return (
        f'<span class="sw" style="display:inline-block;width:12px;height:12px;'
        f'background:{look.colour};border:1px solid #999;vertical-align:-1px"></span>'
    )


LEGEND_NOTE = "The external force arrives at the top edge, reinforcements at the bottom."


def legend_rows() -> list[tuple[bool, str]]:
    """(is_title, html) rows of the map's legend: ground, inmates, other agents."""
    groups = (
        ("Ground", ground_legend()),
        ("Inmates (cell colour = most common state)", list(inmate_looks().values())),
        ("Other agents (marker = one or more in the cell)", marker_legend()),
    )
    rows: list[tuple[bool, str]] = []
    for title, looks in groups:
        rows.append((True, f"<b>{escape(title)}</b>"))
        rows += [(False, f"{swatch(k)} {escape(k.text)}") for k in looks]
    rows.append((False, f'<span style="color:#555">{LEGEND_NOTE}</span>'))
    return rows


def legend_html(columns: int = 3) -> str:
    """The map's legend in ``columns`` columns of about equal length; a group title is
    never left at the foot of a column. The same legend on every page."""
    rows = legend_rows()
    per_column = math.ceil(len(rows) / columns)
    cols: list[list[str]] = [[]]
    for i, (is_title, text) in enumerate(rows):
        last_in_column = len(cols[-1]) == per_column - 1
        if len(cols[-1]) >= per_column or (is_title and last_in_column and i < len(rows) - 1):
            cols.append([])
        cols[-1].append(f"<div>{text}</div>")
    body = "".join(f'<div style="flex:1 1 0;min-width:0">{"".join(c)}</div>' for c in cols)
    return (
        '<div class="prisonsim-legend" style="display:flex;gap:14px;font-size:12px;'
        f'line-height:1.3">{body}</div>'
    )


# ----------------------------------------------------------------------------- charts


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering lo..hi (1, 2, 2.5 or 5 times a power of ten apart)."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, target - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-6:
        if v >= lo - step * 1e-6:
            ticks.append(round(v, 10) + 0.0)  # + 0.0: no '-0' label
        v += step
    return ticks


def nice_ceiling(v: float) -> float:
    """The smallest round number (1, 2, 2.5 or 5 times a power of ten) at or above ``v``."""
    if v <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(v))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= v - 1e-12)


def tick_text(v: float) -> str:
    return f"{v:g}" if abs(v) < 10_000 else f"{v:,.0f}"


@dataclass(frozen=True)
class Frame:
    """Plot area of a chart in SVG pixels and its data ranges."""

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, v: float) -> float:
        lo, hi = self.x_range
        return self.left + (v - lo) / (hi - lo) * (self.width - self.left - self.right)

    def y(self, v: float) -> float:
        lo, hi = self.y_range
        return (
            self.height
            - self.bottom
            - (v - lo) / (hi - lo) * (self.height - self.top - self.bottom)
        )


def axes_svg(frame: Frame, x_ticks: Sequence[float], y_ticks: Sequence[float], xlabel: str):
    """Grid lines, tick labels and the x-axis label of a chart frame."""
    out = []
    for v in y_ticks:
        y = frame.y(v)
        out.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#e3e3e3"/><text x="{frame.left - 4}" y="{y + 4:.1f}" '
            f'text-anchor="end">{tick_text(v)}</text>'
        )
    base = frame.height - frame.bottom
    for v in x_ticks:
        x = frame.x(v)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" stroke="#777"/>'
            f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle">{tick_text(v)}</text>'
        )
    out.append(
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}" '
        f'stroke="#777"/><text x="{(frame.left + frame.width - frame.right) / 2:.1f}" '
        f'y="{frame.height - 2}" text-anchor="middle" fill="#444">{escape(xlabel)}</text>'
    )
    return "".join(out)


@dataclass(frozen=True)
class Line:
    """One series of a time chart."""

    text: str
    colour: str
    values: Sequence[float]
    fill: bool = False


def time_chart_svg(
    t: Sequence[float],
    lines: Sequence[Line],
    *,
    title: str,
    y_max: float | None = None,
    x_max: float | None = None,
    height: int = 200,
    width: int = 460,
    css_class: str = "",
) -> str:
    """A line chart over simulated hours, drawn up to the last time in ``t``.

    The x axis runs to ``x_max`` (or the next round number of hours past the last time),
    the y axis from 0 to ``y_max`` (or the largest value).
    """
    t_arr = np.asarray(t, dtype=float)
    last = float(t_arr[-1]) if len(t_arr) else 0.0
    x_hi = x_max or max(6.0, nice_ceiling(last))
    peak = max((max(line.values, default=0) for line in lines), default=0)
    y_hi = y_max or nice_ceiling(peak)
    frame = Frame(width, height, 46, 10, 24, 34, (0.0, x_hi), (0.0, y_hi))
    parts = [
        f'<svg class="{css_class}" viewBox="0 0 {frame.width} {height}" width="100%" '
        f'style="{FONT}; font-size: 11px" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{frame.left}" y="14" font-weight="bold" font-size="12">{escape(title)}</text>',
        axes_svg(
            frame,
            nice_ticks(0, x_hi, 7),
            nice_ticks(0, y_hi, max(3, min(6, height // 30))),
            "hours since the start (h)",
        ),
    ]
    for line in lines:
        pts = " ".join(
            f"{frame.x(a):.1f},{frame.y(b):.1f}" for a, b in zip(t_arr, line.values, strict=True)
        )
        if line.fill and len(t_arr):
            base = frame.y(0)
            parts.append(
                f'<polygon points="{frame.x(t_arr[0]):.1f},{base:.1f} {pts} '
                f'{frame.x(last):.1f},{base:.1f}" fill="{line.colour}" fill-opacity="0.22"/>'
            )
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{line.colour}" stroke-width="1.8">'
            f"<title>{escape(line.text)}</title></polyline>"
        )
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Band:
    """A shaded x range with a caption (e.g. the reported range of an outcome)."""

    low: float
    high: float
    text: str


def dot_plot_svg(
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    band: Band | None = None,
    highlight: float | None = None,
    highlight_text: str = "",
    css_class: str = "prisonsim-dots",
) -> str:
    """Each run one dot, stacked in bins along x (a dot histogram), with the mean marked.

    ``band`` shades a range (the reported range); ``highlight`` marks one value (the live
    run) with a ring.
    """
    v = np.asarray(values, dtype=float)
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
    if band is not None:
        lo, hi = min(lo, band.low), max(hi, band.high)
    ticks = nice_ticks(lo, hi if hi > lo else lo + 1)
    x_lo, x_hi = min(ticks[0], lo), max(ticks[-1], hi if hi > lo else lo + 1)
    n_bins = 24
    width_bin = (x_hi - x_lo) / n_bins
    bins = np.clip(((v - x_lo) / width_bin).astype(int), 0, n_bins - 1)
    tallest = int(np.bincount(bins, minlength=n_bins).max()) if len(v) else 1
    frame = Frame(360, 150, 16, 14, 24, 34, (x_lo, x_hi), (0.0, max(tallest, 6)))
    r = min((frame.x(x_lo + width_bin) - frame.x(x_lo)) / 2.2, (frame.y(0) - frame.y(1)) / 2.1, 6.0)
    parts = [
        f'<svg class="{css_class}" viewBox="0 0 {frame.width} {frame.height}" width="100%" '
        f'style="{FONT}; font-size: 12px" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{frame.left}" y="15" font-weight="bold" font-size="14">{escape(title)}</text>',
    ]
    if band is not None and band.low == band.high:  # a reference value: a line
        bx = frame.x(band.low)
        parts.append(
            f'<line x1="{bx:.1f}" x2="{bx:.1f}" y1="{frame.top}" y2="{frame.y(0):.1f}" '
            f'stroke="#f28e2b" stroke-width="2"><title>{escape(band.text)}</title></line>'
        )
    elif band is not None:
        parts.append(
            f'<rect x="{frame.x(band.low):.1f}" y="{frame.top}" '
            f'width="{max(1.0, frame.x(band.high) - frame.x(band.low)):.1f}" '
            f'height="{frame.height - frame.top - frame.bottom}" fill="#f28e2b" '
            f'fill-opacity="0.18"><title>{escape(band.text)}</title></rect>'
        )
    parts.append(axes_svg(frame, ticks, [], xlabel))
    height_seen = np.zeros(n_bins, dtype=int)
    for value, b in sorted(zip(v, bins, strict=True)):
        cx = frame.x(x_lo + (b + 0.5) * width_bin)
        cy = frame.y(height_seen[b] + 0.5)
        height_seen[b] += 1
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="#4e79a7" fill-opacity="0.8">'
            f"<title>{value:g}</title></circle>"
        )
    if len(v):
        mx = frame.x(float(v.mean()))
        parts.append(
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{frame.top}" y2="{frame.y(0):.1f}" '
            f'stroke="#111" stroke-dasharray="4 3"><title>mean {v.mean():g}</title></line>'
        )
    if highlight is not None:
        hb = int(np.clip((highlight - x_lo) / width_bin, 0, n_bins - 1))
        hx = frame.x(x_lo + (hb + 0.5) * width_bin)
        parts.append(
            f'<path d="M{hx:.1f} {frame.top + 2}l-5 -8h10z" fill="#d1495b">'
            f"<title>{escape(highlight_text)}</title></path>"
        )
    parts.append("</svg>")
    return "".join(parts)
