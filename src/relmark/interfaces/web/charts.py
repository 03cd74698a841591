"""Charts as server-rendered SVG: readable without JavaScript, labelled, and escaped.

Every chart has a title, labelled axes and a text alternative (`<title>` and `aria-label`),
and scales to its container (a laptop or a phone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

GREEN = "#2f6f4f"
GRID = "#dddddd"


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'class="chart" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" '
        f'font-size="14"><title>{escape(label)}</title>{body}</svg>'
    )


def bars(
    labels: Sequence[str], values: Sequence[float], title: str, fmt: Callable[[float], str]
) -> str:
    """Horizontal bars, one per label, with the value written at the end of each."""
    row, left, width = 26, 150, 560
    top = 10
    height = top + row * len(labels) + 10
    biggest = max(values, default=0) or 1
    parts = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        length = (width - left - 90) * value / biggest
        parts.append(
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{length:.1f}" height="16" fill="{GREEN}"/>'
            f'<text x="{left + length + 6:.1f}" y="{y + 16}">{escape(fmt(value))}</text>'
        )
    return _svg(width, height, title, "".join(parts))


def heatmap(counts: dict[tuple[int, int], int], title: str, x_label: str, y_label: str) -> str:
    """The 5×5 RFM grid: recency score across, frequency-monetary score up."""
    cell, left, top = 64, 70, 20
    biggest = max(counts.values(), default=0) or 1
    parts = []
    for r in range(1, 6):
        for fm in range(1, 6):
            n = counts.get((r, fm), 0)
            x = left + (r - 1) * cell
            y = top + (5 - fm) * cell
            shade = 0.08 + 0.92 * n / biggest
            ink = "#ffffff" if shade > 0.55 else "#222222"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{GREEN}" fill-opacity="{shade:.2f}"><title>R{r} FM{fm}: {n}</title></rect>'
                f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                f'fill="{ink}">{n}</text>'
            )
        parts.append(
            f'<text x="{left + (r - 1) * cell + cell / 2}" y="{top + 5 * cell + 16}" '
            f'text-anchor="middle">{r}</text>'
        )
    for fm in range(1, 6):
        parts.append(
            f'<text x="{left - 10}" y="{top + (5 - fm) * cell + cell / 2 + 4}" '
            f'text-anchor="end">{fm}</text>'
        )
    parts.append(
        f'<text x="{left + 2.5 * cell}" y="{top + 5 * cell + 34}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text x="16" y="{top + 2.5 * cell}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + 2.5 * cell})">{escape(y_label)}</text>'
    )
    return _svg(left + 5 * cell + 10, top + 5 * cell + 44, title, "".join(parts))


def line(
    points: Sequence[tuple[float, float]],
    title: str,
    x_label: str,
    y_label: str,
    percent: Callable[[float], str],
) -> str:
    """A curve over [0, 1] × [min(0, y), max(1, y)], e.g. the whale curve."""
    width, height, left, bottom, top = 560, 300, 60, 40, 15
    ys = [y for _, y in points] or [0.0]
    low, high = min(0.0, *ys), max(1.0, *ys)
    span = high - low or 1.0

    def px(x: float, y: float) -> tuple[float, float]:
        return (
            left + x * (width - left - 15),
            top + (high - y) / span * (height - top - bottom),
        )

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{px(x, y)[0]:.1f},{px(x, y)[1]:.1f}"
        for i, (x, y) in enumerate(points)
    )
    grid = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        gx, _ = px(tick, 0)
        _, gy = px(0, tick)
        grid.append(
            f'<line x1="{gx:.1f}" y1="{top}" x2="{gx:.1f}" y2="{height - bottom}" stroke="{GRID}"/>'
            f'<text x="{gx:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(percent(tick))}</text>"
            f'<line x1="{left}" y1="{gy:.1f}" x2="{width - 15}" y2="{gy:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{escape(percent(tick))}</text>"
        )
    if high > 1.0:
        _, gy = px(0, high)
        grid.append(
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{escape(percent(high))}</text>"
        )
    body = (
        "".join(grid)
        + f'<path d="{path}" fill="none" stroke="{GREEN}" stroke-width="2.5"/>'
        + f'<text x="{(left + width) / 2}" y="{height - 6}" text-anchor="middle">'
        f"{escape(x_label)}</text>" + f'<text x="14" y="{height / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {height / 2})">{escape(y_label)}</text>'
    )
    return _svg(width, height, title, body)
