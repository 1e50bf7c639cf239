"""Chart data: plain SVG geometry computed here and drawn by templates/admin/dashboard/chart.html,
so the charts need no JavaScript; every chart sits next to its table (backoffice/dashboard/tables.py)."""

import math

PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#f59e0b", "#7c3aed", "#0891b2", "#db2777", "#6b7280"]
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 48, 12, 28


def _nice_top(value: float) -> float:
    """A round top for a y axis of four steps: 4 x the smallest round step (1, 1.5, 2, 2.5, 3, 4, 5, 6,
    8 x 10^n, at least 1: the charts count members and points) that reaches value."""
    quarter = value / 4
    if quarter <= 1:
        return 4
    power = 10 ** math.floor(math.log10(quarter))
    step = next(f * power for f in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if quarter <= f * power)
    return step * 4


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _frame(labels: list[str], top: float, right_range: tuple[float, float] | None = None) -> dict:
    plot_h = HEIGHT - TOP - BOTTOM
    grid = []
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        right = None
        if right_range:
            right = _fmt(right_range[0] + (right_range[1] - right_range[0]) * i / 4)
        grid.append({"y": round(y, 1), "label": _fmt(top * i / 4), "label_right": right})
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    xlabels = [
        {"x": round(LEFT + step * (i + 0.5), 1), "text": label[2:] if len(labels) > 6 else label}
        for i, label in enumerate(labels)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        "grid": grid,
        "xlabels": xlabels,
        "step": step,
        "rects": [],
        "lines": [],
        "arcs": [],
        "legend": [],
    }


def _y(value: float, lo: float, hi: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return round(TOP + plot_h - plot_h * (value - lo) / (hi - lo), 1)


def line_chart(labels: list[str], series: list[dict]) -> dict:
    """Lines over months; a series with axis "right" and a fixed range (NPS) gets the right-hand scale.
    Months without a value break the line."""
    left_max = max([v for s in series if s.get("axis") != "right" for v in s["values"] if v is not None] or [0])
    top = _nice_top(left_max)
    right = next((s["range"] for s in series if s.get("axis") == "right"), None)
    chart = _frame(labels, top, right)
    for n, s in enumerate(series):
        lo, hi = s.get("range", (0, top))
        color = s.get("color", PALETTE[n])
        points = [
            (round(LEFT + chart["step"] * (i + 0.5), 1), _y(float(v), lo, hi), v)
            for i, v in enumerate(s["values"])
            if v is not None
        ]
        segments, current, previous_i = [], [], None
        for i, v in enumerate(s["values"]):
            if v is None:
                previous_i = None
                continue
            if previous_i is None and current:
                segments.append(current)
                current = []
            current.append(f"{round(LEFT + chart['step'] * (i + 0.5), 1)},{_y(float(v), lo, hi)}")
            previous_i = i
        if current:
            segments.append(current)
        chart["lines"].append(
            {
                "color": color,
                "segments": [" ".join(seg) for seg in segments],
                "dots": [{"x": x, "y": y, "title": f"{s['name']}: {v}"} for x, y, v in points],
            }
        )
        chart["legend"].append({"name": s["name"], "color": color})
    return chart


def bar_chart(labels: list[str], series: list[dict]) -> dict:
    """Grouped bars: one bar per series in each month."""
    top = _nice_top(max([max(v, 0) for s in series for v in s["values"]] or [0]))
    chart = _frame(labels, top)
    width = chart["step"] * 0.8 / max(len(series), 1)
    for n, s in enumerate(series):
        color = s.get("color", PALETTE[n])
        for i, v in enumerate(s["values"]):
            y = _y(max(float(v), 0), 0, top)
            chart["rects"].append(
                {
                    "x": round(LEFT + chart["step"] * (i + 0.1) + width * n, 1),
                    "y": y,
                    "w": round(width, 1),
                    "h": round(chart["bottom"] - y, 1),
                    "color": color,
                    "title": f"{labels[i]} {s['name']}: {v}",
                }
            )
        chart["legend"].append({"name": s["name"], "color": color})
    return chart


def stacked_chart(labels: list[str], series: list[dict]) -> dict:
    """Stacked bars: the series of a month sit on top of each other."""
    totals = [sum(s["values"][i] for s in series) for i in range(len(labels))]
    top = _nice_top(max(totals or [0]))
    chart = _frame(labels, top)
    base = [0.0] * len(labels)
    for n, s in enumerate(series):
        color = s.get("color") or PALETTE[n % len(PALETTE)]
        for i, v in enumerate(s["values"]):
            if not v:
                continue
            y_top, y_base = _y(base[i] + v, 0, top), _y(base[i], 0, top)
            chart["rects"].append(
                {
                    "x": round(LEFT + chart["step"] * (i + 0.15), 1),
                    "y": y_top,
                    "w": round(chart["step"] * 0.7, 1),
                    "h": round(y_base - y_top, 1),
                    "color": color,
                    "title": f"{labels[i]} {s['name']}: {v}",
                }
            )
            base[i] += v
        chart["legend"].append({"name": s["name"], "color": color})
    return chart


def donut_chart(slices: list[tuple[str, int]], center: str = "", links: list[str | None] | None = None) -> dict:
    """A ring of arcs drawn as dashed circle strokes, starting at 12 o'clock, clockwise; with
    `links`, each arc and legend entry opens its own list."""
    links = links or [None] * len(slices)
    radius = 70
    circumference = 2 * math.pi * radius
    total = sum(n for _label, n in slices)
    arcs, done = [], 0.0
    for n, (label, count) in enumerate(slices):
        color = PALETTE[n % len(PALETTE)]
        if count and total:
            length = circumference * count / total
            arcs.append(
                {
                    "dash": round(length, 2),
                    "gap": round(circumference - length, 2),
                    "offset": round(circumference / 4 - done, 2),
                    "color": color,
                    "title": f"{label}: {count}",
                    "link": links[n],
                }
            )
            done += length
    return {
        "kind": "donut",
        "width": 200,
        "height": 200,
        "radius": radius,
        "arcs": arcs,
        "center": center,
        "linked": any(links),
        "legend": [
            {"name": label, "color": PALETTE[n % len(PALETTE)], "link": links[n]}
            for n, (label, _c) in enumerate(slices)
        ],
    }
