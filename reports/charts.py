"""Charts as inline SVG, drawn on the server: no script, no external service.

Each chart is an accessible image (role="img" with a title and a
description) and the pages print the table behind it next to it, so the
numbers stay readable by screen readers, in print and in the PDF report.
Colours are the status colours of the site; every bar also carries its
number as text, so colour is never the only carrier of meaning.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe

STATUS_COLOURS = {
    "Not Initiated": "#8c959f",
    "Initiated": "#0969da",
    "Completed": "#1a7f37",
    "No Longer Applicable": "#d4a72c",
    "Other (older statuses)": "#8250df",
}
SERIES_COLOURS = ["#0969da", "#1a7f37", "#cf222e", "#8250df", "#bf8700"]
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, Liberation Sans, sans-serif"
_ids = itertools.count(1)


def _esc(text: object) -> str:
    """Text for an SVG text node or a quoted attribute: & < > " ' escaped (the markup is built by hand)."""
    return escape(str(text), {'"': "&quot;", "'": "&#x27;"})


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    n = next(_ids)
    return mark_safe(
        # Sized by attributes and the stylesheets' `svg.chart` rule, never a style attribute (the CSP allows none).
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="chart-t{n} chart-d{n}" '
        f'font-family="{FONT}" font-size="12">'
        f'<title id="chart-t{n}">{_esc(title)}</title><desc id="chart-d{n}">{_esc(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _label(text: str, limit: int = 34) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(rows: list[tuple[str, float | None]], title: str, *, percent: bool = False, width: int = 640) -> SafeString:
    """Horizontal bars: one per (label, value). Percentages are 0..1 when `percent`."""
    label_w, bar_w, row_h = 230, width - 230 - 60, 22
    height = max(1, len(rows)) * row_h + 10
    top = max([v for _, v in rows if v is not None] + [1 if percent else 0]) or 1
    if percent:
        top = 1
    body = []
    for i, (label, value) in enumerate(rows):
        y = 5 + i * row_h
        body.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="#1b1f24">{_esc(_label(label))}</text>')
        if value is None:
            body.append(f'<text x="{label_w + 4}" y="{y + 15}" fill="#57606a">no data</text>')
            continue
        w = max(0.0, bar_w * value / top)
        shown = f"{value:.0%}" if percent else f"{value:,.0f}"
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="#0969da" rx="2"/>')
        body.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" fill="#1b1f24">{shown}</text>')
    desc = "; ".join(f"{label}: {(f'{v:.0%}' if percent else f'{v:,.0f}') if v is not None else 'no data'}" for label, v in rows)
    return _svg(width, height, title, desc, body)


def stacked_bars(rows: list[tuple[str, list[tuple[str, int]]]], title: str, *, width: int = 640) -> SafeString:
    """One 100% bar per group, split by status, with a legend."""
    label_w, bar_w, row_h = 230, width - 230 - 70, 22
    names = list(dict.fromkeys(name for _, segs in rows for name, _ in segs))
    legend_h = 22
    height = legend_h + max(1, len(rows)) * row_h + 10
    body = []
    x = 0
    for name in names:
        colour = STATUS_COLOURS.get(name, "#57606a")
        body.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{x + 16}" y="14" fill="#1b1f24">{_esc(name)}</text>')
        x += 22 + 7 * len(name)
    for i, (label, segments) in enumerate(rows):
        y = legend_h + 5 + i * row_h
        total = sum(n for _, n in segments)
        body.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="#1b1f24">{_esc(_label(label))}</text>')
        left = float(label_w)
        for name, n in segments:
            if not n or not total:
                continue
            w = bar_w * n / total
            colour = STATUS_COLOURS.get(name, "#57606a")
            body.append(
                f'<rect x="{left:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}">'
                f"<title>{_esc(label)}: {_esc(name)} {n:,}</title></rect>"
            )
            if w > 28:
                body.append(f'<text x="{left + w / 2:.1f}" y="{y + 15}" text-anchor="middle" fill="#ffffff">{n:,}</text>')
            left += w
        body.append(f'<text x="{label_w + bar_w + 6}" y="{y + 15}" fill="#57606a">{total:,}</text>')
    desc = "; ".join(f"{label}: " + ", ".join(f"{name} {n:,}" for name, n in segs) for label, segs in rows)
    return _svg(width, height, title, desc, body)


@dataclass
class Series:
    name: str
    points: list[tuple[int, float | None]]  # (year, value 0..1)


def line_chart(series: list[Series], title: str, *, width: int = 640, height: int = 260) -> SafeString:
    """Trend lines over years, values 0..100% (gaps where a year has no data)."""
    left, right, top, bottom = 48, 20, 30, 30
    xs = sorted({x for s in series for x, _ in s.points})
    body = []
    plot_w, plot_h = width - left - right, height - top - bottom
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#57606a">{pct}%</text>')
    if not xs:
        body.append(f'<text x="{left + 8}" y="{top + 20}" fill="#57606a">no data</text>')
        return _svg(width, height, title, "no data", body)

    def px(x: int) -> float:
        return left + (plot_w * (xs.index(x) / (len(xs) - 1)) if len(xs) > 1 else plot_w / 2)

    step = max(1, len(xs) // 12)
    for x in xs[::step]:
        body.append(f'<text x="{px(x):.1f}" y="{height - 10}" text-anchor="middle" fill="#57606a">{x}</text>')
    lx = left
    for i, s in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        body.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/><text x="{lx + 16}" y="16">{_esc(s.name)}</text>')
        lx += 30 + 7 * len(s.name)
        path, pen_down = [], False
        for x, v in s.points:
            if v is None:
                pen_down = False
                continue
            y = top + plot_h * (1 - v)
            path.append(f"{'L' if pen_down else 'M'}{px(x):.1f},{y:.1f}")
            pen_down = True
            body.append(f'<circle cx="{px(x):.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{_esc(s.name)} {x}: {v:.0%}</title></circle>')
        if path:
            body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
    desc = "; ".join(
        f"{s.name}: " + ", ".join(f"{x} {v:.0%}" if v is not None else f"{x} no data" for x, v in s.points) for s in series
    )
    return _svg(width, height, title, desc, body)
