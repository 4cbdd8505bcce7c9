"""Charts as SVG drawn on the server: bars for counts, lines for latency. No script, no library;
each bar and point carries a <title> so a browser shows the value on hover."""

from __future__ import annotations

from html import escape

W, H, PAD_L, PAD_B, PAD_T = 640, 180, 44, 22, 10


def _nice(v: float) -> float:
    if v <= 0:
        return 1
    for step in (1, 2, 5):
        for exp in range(0, 12):
            n = step * 10 ** exp
            if n >= v:
                return n
    return v


def _axes(top: float, unit: str, labels: list[str]) -> list[str]:
    parts = []
    plot_h = H - PAD_B - PAD_T
    for frac in (0, 0.5, 1):
        y = PAD_T + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{PAD_L}" y1="{y:.1f}" x2="{W}" y2="{y:.1f}"/>')
        value = top * frac
        text = f"{value:.0f}" if top >= 10 or value == 0 else f"{value:.1f}"
        parts.append(f'<text class="axis" x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end">{text}{unit}</text>')
    n = len(labels)
    every = max(1, n // 6)
    width = (W - PAD_L) / max(n, 1)
    for i in range(0, n, every):
        x = PAD_L + width * (i + 0.5)
        parts.append(f'<text class="axis" x="{x:.1f}" y="{H - 6}" text-anchor="middle">{escape(labels[i])}</text>')
    return parts


def bars(title: str, labels: list[str], values: list[int], highlight: list[int] | None = None) -> str:
    """A bar per value; ``highlight`` (e.g. faults) is drawn over the lower part of each bar."""
    top = max(_nice(max(values, default=0)), 4)  # whole messages: at least 0, 2, 4 on the axis
    plot_h = H - PAD_B - PAD_T
    width = (W - PAD_L) / max(len(values), 1)
    parts = _axes(top, "", labels)
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
    top = _nice(max((v for vs in series.values() for v in vs if v is not None), default=0))
    plot_h = H - PAD_B - PAD_T
    n = len(labels)
    width = (W - PAD_L) / max(n, 1)
    parts = _axes(top, unit, labels)
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
