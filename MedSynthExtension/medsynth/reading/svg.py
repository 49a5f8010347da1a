"""Three small SVG charts for the report, drawn by hand so the report needs no plotting library.

Each function returns a standalone ``<svg>`` element (text) that works inline in HTML and as an
``.svg`` file beside a Markdown report.
"""

from __future__ import annotations

from html import escape
from typing import Mapping, Sequence

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f")
_FONT = 'font-family="sans-serif" font-size="11"'


def accuracy_chart(labels: Sequence[str], values: Sequence[float | None], lows: Sequence[float | None],
                   highs: Sequence[float | None], title: str = "Accuracy (95 % Wilson CI)") -> str:
    """Vertical bars of accuracy (0–1) with interval whiskers and a dashed 50 % chance line."""
    width, height, left, bottom, top = max(240, 70 * len(labels) + 80), 260, 50, 50, 30
    plot_h = height - bottom - top
    slot = (width - left - 20) / max(1, len(labels))

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    parts = [_open(width, height), _text(width / 2, 16, title, anchor="middle", bold=True)]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(_text(left - 6, y(tick) + 4, f"{tick:.0%}", anchor="end"))
    for i, (label, value, low, high) in enumerate(zip(labels, values, lows, highs)):
        x = left + i * slot + slot * 0.2
        w = slot * 0.6
        if value is not None:
            parts.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{w:.1f}" height="{y(0) - y(value):.1f}" '
                         f'fill="{_COLOURS[i % len(_COLOURS)]}" opacity="0.8"><title>{escape(label)}: '
                         f'{value:.1%}</title></rect>')
        if low is not None and high is not None:
            cx = x + w / 2
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(low):.1f}" y2="{y(high):.1f}" stroke="black"/>')
            for v in (low, high):
                parts.append(f'<line x1="{cx - 5:.1f}" x2="{cx + 5:.1f}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="black"/>')
        parts.append(_text(x + w / 2, height - bottom + 16, label, anchor="middle"))
    parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(0.5):.1f}" y2="{y(0.5):.1f}" stroke="black" '
                 'stroke-dasharray="5,4"><title>chance (50 %)</title></line>')
    parts.append("</svg>")
    return "\n".join(parts)


def roc_chart(curves: Mapping[str, Sequence[tuple[float, float]]], title: str = "ROC: detecting synthetic") -> str:
    """ROC curves (false positive rate on x, true positive rate on y) with the chance diagonal."""
    size, margin = 300, 45
    plot = size - 2 * margin + 10
    height = size + 16 * len(curves)

    def px(fpr: float, tpr: float) -> str:
        return f"{margin + fpr * plot:.1f},{margin - 10 + (1 - tpr) * plot:.1f}"

    parts = [_open(size + 20, height), _text(size / 2, 16, title, anchor="middle", bold=True),
             f'<rect x="{margin}" y="{margin - 10}" width="{plot}" height="{plot}" fill="none" stroke="#999"/>',
             f'<polyline points="{px(0, 0)} {px(1, 1)}" fill="none" stroke="#999" stroke-dasharray="4,4"/>',
             _text(margin + plot / 2, margin + plot + 20, "false positive rate (real called synthetic)", anchor="middle"),
             _text(12, margin + plot / 2, "true positive rate", anchor="middle",
                   rotate=f"rotate(-90 12 {margin + plot / 2:.1f})")]
    for i, (label, points) in enumerate(curves.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        if points:
            parts.append(f'<polyline points="{" ".join(px(f, t) for f, t in points)}" fill="none" '
                         f'stroke="{colour}" stroke-width="2"><title>{escape(label)}</title></polyline>')
        ly = size + 2 + 16 * i
        parts.append(f'<line x1="{margin}" x2="{margin + 20}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        parts.append(_text(margin + 26, ly, label))
    parts.append("</svg>")
    return "\n".join(parts)


def likert_chart(levels: Sequence[int], series: Mapping[str, Sequence[int]], title: str) -> str:
    """Grouped bars: for each rating, the share of each series' ratings (real, synthetic, ...)."""
    width, height, left, bottom, top = max(300, 60 * len(levels) + 80), 240, 45, 45, 30
    plot_h = height - bottom - top
    slot = (width - left - 20) / max(1, len(levels))
    shares = {name: [c / sum(counts) if sum(counts) else 0.0 for c in counts] for name, counts in series.items()}
    peak = max([max(s) for s in shares.values() if s] + [0.01])

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    parts = [_open(width, height + 16 * len(series)), _text(width / 2, 16, title, anchor="middle", bold=True),
             f'<line x1="{left}" x2="{width - 20}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#999"/>',
             _text(left - 6, y(peak) + 4, f"{peak:.0%}", anchor="end"), _text(left - 6, y(0) + 4, "0%", anchor="end")]
    bar = slot * 0.8 / max(1, len(series))
    for j, level in enumerate(levels):
        for i, (name, values) in enumerate(shares.items()):
            x = left + j * slot + slot * 0.1 + i * bar
            parts.append(f'<rect x="{x:.1f}" y="{y(values[j]):.1f}" width="{bar:.1f}" height="{y(0) - y(values[j]):.1f}" '
                         f'fill="{_COLOURS[i % len(_COLOURS)]}" opacity="0.8"><title>{escape(name)}, rating {level}: '
                         f'{values[j]:.0%}</title></rect>')
        parts.append(_text(left + (j + 0.5) * slot, height - bottom + 16, str(level), anchor="middle"))
    for i, name in enumerate(series):
        ly = height + 16 * i
        parts.append(f'<rect x="{left}" y="{ly - 9}" width="10" height="10" fill="{_COLOURS[i % len(_COLOURS)]}"/>')
        parts.append(_text(left + 16, ly, name))
    parts.append("</svg>")
    return "\n".join(parts)


def _open(width: float, height: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">')


def _text(x: float, y: float, text: str, anchor: str = "start", bold: bool = False, rotate: str = "") -> str:
    extra = ' font-weight="bold"' if bold else ""
    transform = f' transform="{rotate}"' if rotate else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {_FONT}{extra}{transform}>{escape(text)}</text>'
