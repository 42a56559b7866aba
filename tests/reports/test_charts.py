"""Charts are accessible SVG images with their numbers in text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def test_bar_chart_is_labelled_and_scaled():
    root = parse(charts.bar_chart([("Kenya", 0.5), ("Uganda", 1.0), ("Nepal", None)], "Rate by office", percent=True))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Rate by office"
    assert "Kenya: 50%" in root.find(f"{SVG}desc").text and "Nepal: no data" in root.find(f"{SVG}desc").text
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[1] == 2 * widths[0]  # 100% is twice 50%
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "50%" in texts and "100%" in texts and "no data" in texts


def test_stacked_bars_split_each_group_by_status():
    root = parse(charts.stacked_bars([("Kenya", [("Completed", 3), ("Initiated", 1)])], "Status"))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [b.find(f"{SVG}title").text for b in bars] == ["Kenya: Completed 3", "Kenya: Initiated 1"]
    assert float(bars[0].get("width")) == 3 * float(bars[1].get("width"))
    assert bars[0].get("fill") == charts.STATUS_COLOURS["Completed"]


def test_line_chart_leaves_gaps_and_escapes_text():
    svg = charts.line_chart([charts.Series("Rate <due>", [(2020, 0.5), (2021, None), (2022, 1.0)])], "Trend & more")
    root = parse(svg)  # parses: the escaping is right
    assert root.find(f"{SVG}title").text == "Trend & more"
    path = root.find(f"{SVG}path").get("d")
    assert path.count("M") == 2  # the missing year breaks the line
    assert len(list(root.iter(f"{SVG}circle"))) == 2


def test_empty_charts_say_so():
    assert "no data" in str(charts.line_chart([], "Nothing"))
    assert parse(charts.stacked_bars([], "Nothing")).get("role") == "img"
