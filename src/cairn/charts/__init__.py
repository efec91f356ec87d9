"""Tables -> charts (PNG and SVG): :func:`render_chart`, :func:`suggest_chart`."""

from __future__ import annotations

from cairn.charts.render import CHART_KINDS, ChartError, ChartKind, render_chart, suggest_chart

__all__ = ["CHART_KINDS", "ChartError", "ChartKind", "render_chart", "suggest_chart"]
