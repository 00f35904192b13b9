"""Costs: prices, the meter, reports and budgets (docs/admin/costs.md)."""

from __future__ import annotations

from .meter import CostMeter, SampleSummary
from .prices import CostPrices

__all__ = ["CostMeter", "CostPrices", "SampleSummary"]
