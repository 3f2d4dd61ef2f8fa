"""``summary.html``: a run summary's counts, timings and top words, coloured on the html renderer's scale, all text escaped."""

from __future__ import annotations

import re

import pytest
from matplotlib import colormaps

from attrix.renderers.html_summary import summary_page
from helpers.html_dom import Node, parse

HOSTILE_WORD = "<b>"
HOSTILE_LABEL = '<script>window.__pwned=1</script>'
SUMMARY = {
    "counts": {"rows": 9, "explained": 7, "errors": 2, "warnings": 1},
    "timings": {"wall_seconds": 3.5, "rows_per_second": 2.571},
    "top_words_per_label": {
        "POSITIVE": {"rows": 4, "top_words": [
            {"word": "love", "mean_attribution": 0.8, "rows": 3},
            {"word": HOSTILE_WORD, "mean_attribution": 0.02, "rows": 2},
            {"word": "awful", "mean_attribution": -0.4, "rows": 2},
        ]},
        HOSTILE_LABEL: {"rows": 3, "top_words": []},
    },
    "min_rows_per_word": 2,
}


def hex_of(fraction: float) -> str:
    """The ``#rrggbb`` of the PiYG colormap at ``fraction`` of its range."""
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in colormaps["PiYG"](fraction)[:3])


def section(page: Node, label: str) -> Node:
    return next(node for node in page.find_all("section") if node.find("h2").text == f"toward {label}")


def test_each_top_word_shows_its_mean_and_rows_coloured_on_its_labels_scale():
    page = parse(summary_page(SUMMARY, ["report.html"]))
    positive = section(page, "POSITIVE")
    head, *rows = positive.find("table", "top-words").rows()
    assert head == ["word", "mean attribution", "rows"]
    expected = SUMMARY["top_words_per_label"]["POSITIVE"]["top_words"]
    assert [row[0].strip() for row in rows] == [entry["word"] for entry in expected]
    assert [float(row[1]) for row in rows] == pytest.approx([entry["mean_attribution"] for entry in expected])
    assert [int(row[2]) for row in rows] == [entry["rows"] for entry in expected]
    spans = positive.find_all("span")
    assert [float(span.attrs["title"]) for span in spans] == pytest.approx([entry["mean_attribution"] for entry in expected])
    colours = [re.fullmatch(r"background:(#[0-9a-f]{6})", span.attrs["style"]).group(1) for span in spans]
    assert colours[0] == hex_of(1.0)  # the label's largest |mean| saturates the scale
    assert colours[2] == hex_of(0.25)  # -0.4 of a bound of 0.8: a quarter of the way from the negative end
    assert "4 rows explained" in positive.find("p", "meta").text


def test_counts_timings_and_report_links_are_shown():
    page = parse(summary_page(SUMMARY, ["report.html", "report.png"], title="Reviews: run summary"))
    head, values = page.find("table", "counts").rows()
    shown = dict(zip(head, values))
    assert {name: int(shown[name]) for name in SUMMARY["counts"]} == SUMMARY["counts"]
    assert float(shown["wall seconds"]) == 3.5 and float(shown["rows per second"]) == 2.571
    assert [(link.attrs["href"], link.text) for link in page.find_all("a")] == [("report.html", "report.html"), ("report.png", "report.png")]
    assert page.find("title").text == page.find("h1").text == "Reviews: run summary"


def test_user_text_stays_text():
    page_text = summary_page(SUMMARY, ['x" onclick="y().html'], title="<i>run</i>")
    page = parse(page_text)
    assert not {node.tag for node in page.iter()} & {"script", "b", "i"}
    assert HOSTILE_WORD in [span.text.strip() for span in page.find_all("span")]
    assert section(page, HOSTILE_LABEL).text.endswith("no word occurs in 2 rows or more")
    (link,) = page.find_all("a")
    assert link.text == 'x" onclick="y().html' and set(link.attrs) == {"href"}
    assert page.find("h1").text == "<i>run</i>"
    assert not re.search(r"url\(|@import|https?:", page_text)
