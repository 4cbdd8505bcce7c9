"""Charts as SVG drawn on the server: bars for counts, lines for latency. No script, no library;
each bar and point carries a <title> so a browser shows the value on hover."""

from __future__ import annotations

import math
from html import escape

W, H, PAD_L, PAD_B, PAD_T = 640, 180, 44, 22, 10


def nice_step(v: float) -> float:
    """The smallest step of the 1-2-5 series (…, 0.5, 1, 2, 5, 10, 20, …) that is at least ``v``."""
    if v <= 0:
        return 1
    exp = math.floor(math.log10(v))
    for mantissa in (1, 2, 5, 10):
        step = mantissa * 10.0 ** exp
        if step >= v * (1 - 1e-9):
            return step
    return 10.0 ** (exp + 1)


def nice_axis(v: float, ticks: int = 4, whole: bool = False) -> tuple[float, float]:
    """(top, step) of an axis for data up to ``v``: about ``ticks`` steps of a 1-2-5 size, the top the
    first step at or above the data, so the data fill most of the chart (23 -> 0, 10, 20, 30)."""
    step = nice_step(v / ticks) if v > 0 else 1
    if whole:
        step = max(1, step)
    top = math.ceil(v / step - 1e-9) * step if v > 0 else step * ticks
    return max(top, step), step


def _axes(top: float, step: float, unit: str, labels: list[str]) -> list[str]:
    parts = []
    plot_h = H - PAD_B - PAD_T
    value = 0.0
    while value <= top * (1 + 1e-9):
        frac = value / top
        y = PAD_T + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{PAD_L}" y1="{y:.1f}" x2="{W}" y2="{y:.1f}"/>')
        text = f"{value:.0f}" if step >= 1 else f"{value:.{max(1, -math.floor(math.log10(step)))}f}"
        parts.append(f'<text class="axis" x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end">{text}{unit}</text>')
        value += step
    n = len(labels)
    every = max(1, n // 6)
    width = (W - PAD_L) / max(n, 1)
    for i in range(0, n, every):
        x = PAD_L + width * (i + 0.5)
        parts.append(f'<text class="axis" x="{x:.1f}" y="{H - 6}" text-anchor="middle">{escape(labels[i])}</text>')
    return parts


def bars(title: str, labels: list[str], values: list[int], highlight: list[int] | None = None) -> str:
    """A bar per value; ``highlight`` (e.g. faults) is drawn over the lower part of each bar."""
    top, step = nice_axis(max(max(values, default=0), 4), whole=True)  # whole messages: at least 0-4
    plot_h = H - PAD_B - PAD_T
    width = (W - PAD_L) / max(len(values), 1)
    parts = _axes(top, step, "", labels)
    for i, v in enumerate(values):
        h = plot_h * v / top
        x = PAD_L + width * i + 1
        tip = f"{labels[i]}: {v}" + (f" ({highlight[i]} faults)" if highlight and highlight[i] else "")
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{max(width - 2, 1):.1f}" '
                     f'height="{h:.1f}"><title>{escape(tip)}</title></rect>')
        if highlight and highlight[i]:
            hh = plot_h * highlight[i] / top
            parts.append(f'<rect class="bar fault" x="{x:.1f}" y="{PAD_T + plot_h - hh:.1f}" '
                         f'width="{max(width - 2, 1):.1f}" height="{hh:.1f}"><title>{escape(tip)}</title></rect>')
    return _svg(title, parts)


def lines(title: str, labels: list[str], series: dict[str, list[float | None]], unit: str = " ms") -> str:
    """One polyline per series; gaps where a bucket had no value."""
    top, step = nice_axis(max((v for vs in series.values() for v in vs if v is not None), default=0))
    plot_h = H - PAD_B - PAD_T
    n = len(labels)
    width = (W - PAD_L) / max(n, 1)
    parts = _axes(top, step, unit, labels)
    for k, (name, values) in enumerate(series.items()):
        segment: list[str] = []
        segments = []
        for i, v in enumerate(values):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = PAD_L + width * (i + 0.5), PAD_T + plot_h * (1 - v / top)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle class="pt s{k}" cx="{x:.1f}" cy="{y:.1f}" r="2">'
                         f"<title>{escape(labels[i])} {escape(name)}: {v:.1f}{unit}</title></circle>")
        if segment:
            segments.append(segment)
        for seg in segments:
            parts.append(f'<polyline class="line s{k}" points="{" ".join(seg)}"/>')
        parts.append(f'<text class="legend s{k}" x="{PAD_L + 8 + 60 * k}" y="{PAD_T + 10}">{escape(name)}</text>')
    return _svg(title, parts)


def _svg(title: str, parts: list[str]) -> str:
    return (f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}</svg>')
