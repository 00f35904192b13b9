"""Costs: prices, the meter, reports, budgets and their alerts (docs/admin/costs.md)."""

from __future__ import annotations

from .budgets import CostBudgets
from .meter import CostMeter, SampleSummary
from .prices import CostPrices

__all__ = ["CostBudgets", "CostMeter", "CostPrices", "SampleSummary"]
