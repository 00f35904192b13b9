"""Costs: prices, the meter, reports, budgets and their alerts (docs/admin/costs.md)."""

from __future__ import annotations

from ...prices import CostPrices
from .budgets import CostBudgets
from .meter import CostMeter, SampleSummary

__all__ = ["CostBudgets", "CostMeter", "CostPrices", "SampleSummary"]
