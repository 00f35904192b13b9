"""Wire types of the cost API (pydantic; they make the OpenAPI schema), and the report as CSV
(the API's `format=csv` and `labworks cost report --csv` write the same)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

By = Literal["user", "group", "project", "workspace", "job", "sweep", "run", "deployment", "day"]
Kind = Literal["workspace", "job", "deployment"]
Scope = Literal["user", "group"]
CheckKind = Literal["workspace", "job", "sweep", "deployment"]  # what budget_check refuses
MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"  # 1900-01 to 2999-12
CSV_COLUMNS = ("key", "name", "cost_usd", "cpu_hours", "memory_gb_hours", "gpu_hours",
               "cpu_used_hours")  # fmt: skip


class ProfilePrice(BaseModel):
    name: str
    display_name: str
    per_hour: float = Field(description="What an hour on it costs, in the currency.")
    computed: bool = Field(description="False: the profile sets its own price_per_hour.")


class PriceList(BaseModel):
    currency: str
    prices: dict[str, object] = Field(
        description="cpu_core_hour, memory_gb_hour, gpu_hour (by GPU model, with `default`),"
        " disk_gb_month, spot_discount (a fraction)."
    )
    profiles: list[ProfilePrice]


class ReportRow(BaseModel):
    key: str = Field(description="What the row is about: a user, group, id, run id or day.")
    name: str = Field("", description="A readable name where the key is an id.")
    cost_usd: float
    cpu_hours: float = Field(description="Reserved (billed) core-hours.")
    memory_gb_hours: float = Field(description="Reserved (billed) GiB-hours.")
    gpu_hours: float = Field(description="Reserved (billed) GPU-hours.")
    cpu_used_hours: float = Field(description="Measured CPU time, in hours (where measured).")


class Report(BaseModel):
    month: str
    by: By
    currency: str
    rows: list[ReportRow]
    total_usd: float


class RunningSubject(BaseModel):
    kind: Kind
    id: str
    name: str
    profile: str
    burn_per_hour: float
    cpu_percent: float | None = Field(description="Of one core, over the last sample.")
    memory_bytes: int | None
    gpu_utilization: float | None = Field(description="Percent; null without a GPU.")


class Budget(BaseModel):
    scope: Scope
    name: str
    monthly_usd: float
    thresholds: list[int] = Field(description="Percentages of the budget that alert.")
    spent_usd: float = Field(description="Spent this month.")
    percent: float = Field(description="spent_usd as a percentage of monthly_usd.")
    updated_by: str
    override_until: datetime | None = Field(
        None, description="Until then, this budget refuses nothing even when spent."
    )


class BudgetCheck(BaseModel):
    allowed: bool
    message: str = Field(description="Why not: the budget, its use and who can raise it.")


class BudgetList(BaseModel):
    month: str
    budgets: list[Budget]


class Summary(BaseModel):
    user: str
    currency: str
    burn_per_hour: float = Field(description="What your running work costs an hour now.")
    today_usd: float
    month_usd: float
    running: list[RunningSubject]
    budgets: list[Budget]


class BudgetRequest(BaseModel):
    monthly_usd: float = Field(ge=0, le=1e9, description="The monthly budget, in the currency.")
    thresholds: list[int] = Field(
        default_factory=lambda: [50, 80, 100], min_length=1, max_length=10,
        description="Percentages of the budget at which alerts fire (1-1000).",
    )  # fmt: skip

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: list[int]) -> list[int]:
        if any(not 1 <= t <= 1000 for t in value):
            raise ValueError("thresholds are percentages from 1 to 1000")
        return sorted(set(value))

    override_until: datetime | None = Field(
        None,
        description="An administrator's override: until this time the budget refuses no new"
        " work, even when spent (alerts still fire). Null: no override.",
    )


def report_csv(report: dict) -> str:
    """The report's rows as CSV: a header row, then one row per key."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["rows"]:
        writer.writerow([_cell(row.get(column, "")) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    """Numbers as they are; text that a spreadsheet would run as a formula, quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return significant(value) if isinstance(value, float) else value


def significant(value: float) -> float:
    """Nine significant digits: cents on millions, and still a figure on a run of a few seconds
    (rounding to decimal places would turn $0.000236292 into $0.000236)."""
    return float(f"{value:.9g}")
