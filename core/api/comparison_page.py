"""``compare.html``: a comparison as one self-contained page: the table, the mean deletion and insertion curves of each
backend drawn as an embedded PNG, and the inputs. It loads nothing and runs nothing; every text from the data (backend
and metric names, errors, inputs, settings) is escaped."""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from attrix.api.comparison import CURVE_METRICS, Comparison, number
from attrix.drawing.figures import png_bytes
from attrix.drawing.pictures import DATA_URI_PREFIX

LISTED_INPUTS = 50
"""At most this many inputs are listed on the page."""
INPUT_CHARACTERS = 300
"""An input longer than this is cut short on the page."""
CURVE_AXES = {"deletion_auc": "features removed (fraction)", "insertion_auc": "features inserted (fraction)"}
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:.3em .7em;text-align:right}th:first-child,td:first-child{text-align:left}"
    "tr.random td{font-style:italic;color:#666}td.failed{color:#b00}.meta{color:#555}li{margin:.2em 0}"
)


def comparison_page(comparison: Comparison, title: str = "attrix compare") -> str:
    """The page of ``comparison``, headed by ``title``."""
    figure = curves_data_uri(comparison)
    curves = f'<h2>Mean curves</h2><img src="{figure}" alt="mean deletion and insertion curves per backend">' if figure else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{_settings(comparison)}{_table(comparison)}"
        f"{_failures(comparison)}{curves}{_inputs(comparison.inputs)}</body></html>\n"
    )


def curves_data_uri(comparison: Comparison) -> str | None:
    """The mean deletion and insertion curves, one line per backend, as a PNG ``data:`` URI; None without curves."""
    curves = {result.backend: result.curves() for result in comparison.results}
    drawn = [name for name in CURVE_METRICS if any(name in by_metric for by_metric in curves.values())]
    if not drawn:
        return None
    figure = Figure(figsize=(5 * len(drawn), 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for axes, name in zip(figure.subplots(1, len(drawn), squeeze=False)[0], drawn):
        for backend, by_metric in curves.items():
            if name in by_metric:
                points = by_metric[name]
                axes.plot([step / (len(points) - 1) for step in range(len(points))], points, marker=".", label=backend)
        axes.set(title=name.removesuffix("_auc"), xlabel=CURVE_AXES[name], ylabel="mean score")
        axes.legend()
    return DATA_URI_PREFIX + base64.b64encode(png_bytes(figure)).decode("ascii")


def _settings(comparison: Comparison) -> str:
    settings = " · ".join(f"{escape(str(key))}: {escape(str(value))}" for key, value in comparison.settings.items())
    return f'<p class="meta">{len(comparison.inputs)} inputs · {settings}</p>'


def _table(comparison: Comparison) -> str:
    """Backend × metric means, the seconds per input, and the random reference's row."""
    names = [metric.name for metric in comparison.metrics]
    head = "".join(
        f"<th>{escape(metric.name)} {'↑' if metric.higher_is_better else '↓'}</th>" for metric in comparison.metrics
    )
    rows = "".join(_row(row, names) for row in comparison.table())
    return (
        f"<table><tr><th>backend</th>{head}<th>s/input (explain)</th><th>s/input (with metrics)</th></tr>{rows}</table>"
        '<p class="meta">means over inputs and targets; seconds per input explaining only, then with the metrics</p>'
    )


def _row(row: dict[str, Any], names: list[str]) -> str:
    if row["error"] is not None:
        cells = f'<td class="failed" colspan="{len(names)}">failed: {escape(row["error"])}</td>'
    else:
        cells = "".join(f"<td>{number(row['metrics'].get(name, {}).get('mean'))}</td>" for name in names)
    seconds = row["seconds_per_input"] or {"explain": None, "with_metrics": None}
    random = ' class="random"' if row["seconds_per_input"] is None else ""
    return (
        f"<tr{random}><td>{escape(row['backend'])}</td>{cells}"
        f"<td>{number(seconds['explain'])}</td><td>{number(seconds['with_metrics'])}</td></tr>"
    )


def _failures(comparison: Comparison) -> str:
    items = "".join(f"<li>{escape(result.backend)}: {escape(result.error or '')}</li>" for result in comparison.failed)
    return f"<h2>Failed backends</h2><ul>{items}</ul>" if items else ""


def _inputs(inputs: list[Any]) -> str:
    """The first inputs, each as text, cut short when long."""
    items = "".join(f"<li>{escape(_text(item))}</li>" for item in inputs[:LISTED_INPUTS])
    more = f'<p class="meta">and {len(inputs) - LISTED_INPUTS} more</p>' if len(inputs) > LISTED_INPUTS else ""
    return f"<h2>Inputs</h2><ol start=\"0\">{items}</ol>{more}"


def _text(item: Any) -> str:
    text = " · ".join(f"{key}: {value}" for key, value in item.items()) if isinstance(item, dict) else str(item)
    return text if len(text) <= INPUT_CHARACTERS else text[: INPUT_CHARACTERS - 1] + "…"
