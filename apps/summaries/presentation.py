"""What the summary page shows, computed outside the template."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.summaries.charts import sparkline_svg

if TYPE_CHECKING:
    from apps.summaries.builder import ResultSeries, Summary


def results_for_display(summary: Summary) -> list[tuple[ResultSeries, str]]:
    """Each result with its chart (whose accessible name lists the values)."""
    return [
        # The points and the band in the series' unit (the reference range the source gave, converted).
        (series, sparkline_svg(series.points, unit=series.unit, low=series.chart_low, high=series.chart_high))
        for series in summary.results
    ]
