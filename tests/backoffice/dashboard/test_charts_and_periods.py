"""Chart geometry, period presets and CSV cells: the parts of the dashboard that are plain functions."""

import math
from datetime import date

import pytest

from backoffice.dashboard.charts import HEIGHT, TOP, _nice_top, bar_chart, donut_chart, line_chart, stacked_chart
from backoffice.dashboard.export import _csv_cell
from backoffice.dashboard.forms import Period, period_bounds
from tests.conftest import at


@pytest.mark.parametrize(("value", "top"), [(0, 4), (3, 4), (22, 24), (100, 100), (153708, 160000), (5, 6)])
def test_the_y_axis_top_is_four_round_steps(value, top):
    assert _nice_top(value) == pytest.approx(top)


def test_donut_arcs_cover_the_ring_in_proportion_and_skip_empty_slices():
    chart = donut_chart([("a", 1), ("b", 0), ("c", 3)], center="4")
    circumference = 2 * math.pi * chart["radius"]

    assert [arc["title"] for arc in chart["arcs"]] == ["a: 1", "c: 3"]
    assert sum(arc["dash"] for arc in chart["arcs"]) == pytest.approx(circumference, abs=0.02)
    assert chart["arcs"][1]["dash"] == pytest.approx(3 * chart["arcs"][0]["dash"], abs=0.02)
    assert chart["arcs"][0]["offset"] == pytest.approx(circumference / 4, abs=0.01)  # starts at 12 o'clock
    assert [item["name"] for item in chart["legend"]] == ["a", "b", "c"]  # the legend lists every type
    assert donut_chart([("a", 0)])["arcs"] == []
    linked = donut_chart([("a", 1), ("b", 0)], links=["/a", "/b"])
    assert [arc["link"] for arc in linked["arcs"]] == ["/a"] and linked["linked"]
    assert [item["link"] for item in linked["legend"]] == ["/a", "/b"]


def test_a_line_breaks_where_a_month_has_no_value_and_nps_uses_its_own_scale():
    chart = line_chart(
        ["m1", "m2", "m3", "m4"],
        [
            {"name": "Active", "values": [10, 20, 30, 40], "axis": "left"},
            {"name": "NPS", "values": [100, None, -100, 0], "axis": "right", "range": (-100, 100)},
        ],
    )
    active, nps = chart["lines"]

    assert len(active["segments"]) == 1 and len(active["dots"]) == 4
    assert len(nps["segments"]) == 2 and len(nps["dots"]) == 3
    bottom, top = HEIGHT - 28, TOP
    assert nps["dots"][0]["y"] == top and nps["dots"][1]["y"] == bottom  # +100 at the top, -100 at the bottom
    assert active["dots"][3]["y"] == top  # 40 is the axis top
    assert [g["label_right"] for g in chart["grid"]] == ["-100", "-50", "0", "50", "100"]


def test_stacked_bars_sit_on_each_other_in_proportion():
    chart = stacked_chart(["m1"], [{"name": "Bronze", "values": [2]}, {"name": "Gold", "values": [6]}])
    lower, upper = chart["rects"]

    assert upper["h"] == pytest.approx(3 * lower["h"], abs=0.2)
    assert upper["y"] + upper["h"] == pytest.approx(lower["y"], abs=0.2)
    assert upper["y"] == TOP  # 8 members fill the axis (top 8)


def test_grouped_bars_one_per_series_and_month():
    chart = bar_chart(["m1", "m2"], [{"name": "Issued", "values": [4, 0]}, {"name": "Redeemed", "values": [2, 0]}])

    assert len(chart["rects"]) == 4
    assert [r["h"] for r in chart["rects"] if r["title"].startswith("m2")] == [0, 0]


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Period.LAST_MONTH, at(2026, 2, 1, 0), at(2026, 3, 1, 0)),
        (Period.THIS_MONTH, at(2026, 3, 1, 0), at(2026, 3, 15, 10)),
        (Period.LAST_30, at(2026, 2, 14, 0), at(2026, 3, 15, 10)),
        (Period.LAST_12_MONTHS, at(2025, 4, 1, 0), at(2026, 3, 15, 10)),
        (Period.THIS_YEAR, at(2026, 1, 1, 0), at(2026, 3, 15, 10)),
    ],
)
def test_period_presets(period, start, end):
    assert period_bounds(period, at(2026, 3, 15, 10)) == (start, end)


def test_a_custom_period_includes_its_last_day():
    assert period_bounds(Period.CUSTOM, at(2026, 3, 15), date(2026, 1, 1), date(2026, 1, 31)) == (
        at(2026, 1, 1, 0),
        at(2026, 2, 1, 0),
    )


def test_csv_cells_typed_by_staff_cannot_become_formulas():
    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_cell("Trees") == "Trees"
    assert (_csv_cell(-5), _csv_cell(None)) == ("-5", "")
