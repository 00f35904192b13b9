"""One page of the Experiments panel's runs table, read from MLflow's SQL store directly.

MLflow's `runs/search` loads every metric, parameter and tag of each run of a page and
serialises them through protobuf JSON: at 200 metrics a run, that is most of the time of a page.
The panel shows a few columns, so `runs_page` does what `SqlAlchemyStore._search_runs` does to
choose the page's runs (MLflow's own filter parser, filter clauses, order-by clauses and offset
page tokens, so the syntax and its errors are MLflow's), selecting only the run ids, then reads
the chosen columns' values of those runs, and the keys the runs have.

Sorting by a metric outer-joins one key's rows to the runs: `ensure_indexes` (called when the
tracking server starts) adds a covering index for that join to MLflow's `latest_metrics`;
MLflow's migrations are left as they are.

MLflow is imported inside the functions: its server modules read their configuration at import
(tracking/server.py).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Index, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, OperationalError

from ..access import Invalid, Viewer
from ..store import tracking as store
from ..validation import MAX_OFFSET

log = logging.getLogger("labworks.service")
MAX_RESULTS = 1000
MAX_COLUMNS = 1000  # keys of one kind a request may ask for
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
SORT_INDEX = "labworks_latest_metrics_sort"
ANALYSIS_LIMIT = 1000  # rows SQLite's ANALYZE samples per index
ANALYZE_EVERY = 600.0  # seconds
_analyzed: dict[str, float] = {}  # engine URL -> when this process analyzed it (monotonic)


@dataclass(frozen=True)
class Columns:
    """The keys whose values a page carries."""

    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunsQuery:
    """What one page is: MLflow's `search_runs` arguments and the columns wanted."""

    experiment_ids: tuple[str, ...]
    filter: str = ""
    order_by: tuple[str, ...] = ()
    max_results: int = 25
    page_token: str | None = None
    run_view_type: str = "ACTIVE_ONLY"
    columns: Columns = field(default_factory=Columns)


@dataclass
class RunsPage:
    """Runs as MLflow's REST API writes them (`info`, `data` with only the chosen keys), the
    token of the next page (None on the last), and the keys of each kind the runs have."""

    runs: list[dict[str, Any]]
    next_page_token: str | None
    keys: dict[str, list[str]]


def visible_runs_page(tracking: Any, viewer: Viewer, query: RunsQuery) -> RunsPage:
    """`runs_page` for `viewer`: NotFound for an experiment they cannot read (or that does not
    exist), decided by the store's one rule (store.tracking.readable_experiment)."""
    for experiment_id in dict.fromkeys(query.experiment_ids):
        store.readable_experiment(tracking, viewer, experiment_id)
    return runs_page(tracking, query)


def runs_page(tracking: Any, query: RunsQuery) -> RunsPage:
    """One page of runs of `query.experiment_ids` (readable ones: `visible_runs_page`).

    Raises:
        Invalid: a bad filter, order_by, page token or max_results (MLflow's message), or
            a number in them past what the database holds.
    """
    from mlflow.exceptions import MlflowException

    if not 1 <= query.max_results <= MAX_RESULTS:
        raise Invalid(f"max_results must be between 1 and {MAX_RESULTS}")
    if query.run_view_type not in VIEW_TYPES:
        raise Invalid(f"run_view_type must be one of {', '.join(VIEW_TYPES)}")
    if any(o.strip().lower().startswith(("metric.", "metrics.")) for o in query.order_by):
        _fresh_statistics(tracking.engine)
    try:
        offset = start_offset(query.page_token)  # the session makes other errors MLflow's 500s
        with tracking.ManagedSessionMaker() as session:
            ids, next_token = _page_ids(tracking, session, query, offset)
            runs = _runs(session, ids, query.columns)
            keys = _keys(session, ids)
    except MlflowException as e:
        if isinstance(e.__cause__, OverflowError | DataError):  # SQLite's, PostgreSQL's
            raise Invalid(
                f"filter: a number in it is out of range (the largest is {2**63 - 1})"
            ) from None
        if e.get_http_status_code() == 400:
            raise Invalid(e.message) from None
        raise
    return RunsPage(runs=runs, next_page_token=next_token, keys=keys)


def ensure_indexes(tracking: Any) -> None:
    """Create `SORT_INDEX` on `latest_metrics` of MLflow's SQL store `tracking` unless it exists
    (idempotent), and on SQLite refresh the table's statistics.

    Sorting by a metric looks up one (key, run) row per run of the experiments; with this
    index the lookup finds the value in the index itself instead of the table (3 times faster
    at 10,000 runs x 200 metrics on SQLite). SQLite prefers the primary key unless its
    statistics (`ANALYZE`) say the two are alike.
    """
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric

    engine: Engine = tracking.engine
    table = SqlLatestMetric.__table__
    if not any(i["name"] == SORT_INDEX for i in inspect(engine).get_indexes(table.name)):
        c = table.c
        with engine.begin() as conn:
            Index(SORT_INDEX, c.key, c.run_uuid, c.is_nan, c.value).create(conn, checkfirst=True)
    _analyze(engine)


def _analyze(engine: Engine) -> None:
    """SQLite: sampled statistics of `latest_metrics` (milliseconds at millions of rows)."""
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's autovacuum keeps them
    with engine.begin() as conn:
        conn.execute(text(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}"))
        conn.execute(text("ANALYZE latest_metrics"))
    engine.dispose()  # a connection reads statistics when it opens: open new ones


def _fresh_statistics(engine: Engine) -> None:
    """Before a metric sort: analyze again unless this process did in the last ANALYZE_EVERY
    seconds (runs logged since the tracking server started change the right plan)."""
    now = time.monotonic()
    if now - _analyzed.get(str(engine.url), -math.inf) > ANALYZE_EVERY:
        _analyzed[str(engine.url)] = now
        try:
            _analyze(engine)
        except OperationalError as e:  # the database is busy: the sort is only slower
            log.warning("runs table: cannot analyze latest_metrics: %s", e.orig)


# --- the page's runs -----------------------------------------------------------------------


def _page_ids(
    tracking: Any, session: Any, query: RunsQuery, offset: int
) -> tuple[list[str], str | None]:
    """The run ids of the page from row `offset`, in MLflow's order, and the next page's token:
    the statement of `SqlAlchemyStore._search_runs`, selecting ids instead of whole runs."""
    from mlflow.entities import LifecycleStage, ViewType
    from mlflow.store.tracking.dbmodels.models import SqlRun
    from mlflow.store.tracking.sqlalchemy_store import (
        _get_orderby_clauses,
        _get_sqlalchemy_filter_clauses,
        _parse_experiment_ids,
    )
    from mlflow.utils.search_utils import SearchUtils

    stages = set(
        LifecycleStage.view_type_to_stages(ViewType.from_string(query.run_view_type.lower()))
    )
    parsed_filters = SearchUtils.parse_search_filter(query.filter)
    cases_orderby, parsed_orderby, sorting_joins = _get_orderby_clauses(
        list(query.order_by), session
    )
    attribute_filters, non_attribute_filters, dataset_filters = _get_sqlalchemy_filter_clauses(
        parsed_filters, session, tracking._get_dialect()
    )
    # Every ORDER BY expression is selected: PostgreSQL needs it with DISTINCT.
    stmt: Any = select(SqlRun.run_uuid, SqlRun.start_time, *cases_orderby)
    for non_attr_filter in non_attribute_filters:  # at most one row per run each
        stmt = stmt.join(non_attr_filter)
    for dataset_filter in dataset_filters:
        stmt = stmt.join(dataset_filter, SqlRun.run_uuid == dataset_filter.c.destination_id)
    for j in sorting_joins:
        stmt = stmt.outerjoin(j)
    if dataset_filters:  # a run may have several matching inputs; nothing else repeats a run
        stmt = stmt.distinct()
    experiment_ids = tracking._filter_experiment_ids(
        session, _parse_experiment_ids(list(query.experiment_ids))
    )
    stmt = (
        stmt.where(
            SqlRun.experiment_id.in_(experiment_ids),
            SqlRun.lifecycle_stage.in_(stages),
            *attribute_filters,
        )
        .order_by(*parsed_orderby)
        .offset(offset)
        .limit(query.max_results + 1)
    )
    ids = [row[0] for row in session.execute(stmt)]
    if len(ids) <= query.max_results:
        return ids, None
    token = SearchUtils.create_page_token(offset + query.max_results)
    return ids[: query.max_results], token.decode() if isinstance(token, bytes) else token


def start_offset(page_token: str | None) -> int:
    """The first row of the page a token names (MLflow's tokens and MLflow's messages);
    Invalid also for what MLflow's parser does not expect and for an offset out of range."""
    from mlflow.utils.search_utils import SearchUtils

    try:
        offset = SearchUtils.parse_start_offset_from_page_token(page_token)
    except (AttributeError, TypeError, OverflowError, RecursionError):  # e.g. `[1]`, 1e999
        offset = -1
    if not 0 <= offset <= MAX_OFFSET:
        raise Invalid(
            "page_token: not a page token of this table; ask for the first page without one"
        )
    return offset


def _runs(session: Any, ids: list[str], columns: Columns) -> list[dict[str, Any]]:
    """The runs' info and the chosen keys' values, in the order of `ids`."""
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlParam, SqlRun, SqlTag

    if not ids:
        return []
    runs: dict[str, dict[str, Any]] = {}
    for row in session.execute(
        select(
            SqlRun.run_uuid,
            SqlRun.name,
            SqlRun.experiment_id,
            SqlRun.user_id,
            SqlRun.status,
            SqlRun.start_time,
            SqlRun.end_time,
            SqlRun.artifact_uri,
            SqlRun.lifecycle_stage,
        ).where(SqlRun.run_uuid.in_(ids))
    ):
        info = {
            "run_id": row.run_uuid,
            "run_name": row.name or "",
            "experiment_id": str(row.experiment_id),
            "user_id": row.user_id or "",
            "status": row.status,
            "start_time": row.start_time,
            "end_time": row.end_time,
            "artifact_uri": row.artifact_uri,
            "lifecycle_stage": row.lifecycle_stage,
        }
        runs[row.run_uuid] = {"info": info, "data": {"metrics": [], "params": [], "tags": []}}
    if columns.metrics:
        m = SqlLatestMetric
        for row in session.execute(
            select(m.run_uuid, m.key, m.value, m.timestamp, m.step, m.is_nan)
            .where(m.run_uuid.in_(ids), m.key.in_(columns.metrics))
            .order_by(m.key)
        ):
            runs[row.run_uuid]["data"]["metrics"].append(
                {
                    "key": row.key,
                    "value": "NaN" if row.is_nan else _number(row.value),
                    "timestamp": row.timestamp,
                    "step": row.step,
                }
            )
    for kind, model, keys in (("params", SqlParam, columns.params), ("tags", SqlTag, columns.tags)):
        if not keys:
            continue
        for row in session.execute(
            select(model.run_uuid, model.key, model.value)
            .where(model.run_uuid.in_(ids), model.key.in_(keys))
            .order_by(model.key)
        ):
            runs[row.run_uuid]["data"][kind].append({"key": row.key, "value": row.value})
    return [runs[i] for i in ids if i in runs]


def _keys(session: Any, ids: list[str]) -> dict[str, list[str]]:
    """The metric, parameter and tag keys the runs have, each sorted."""
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlParam, SqlTag

    keys: dict[str, list[str]] = {}
    for kind, model in (("metrics", SqlLatestMetric), ("params", SqlParam), ("tags", SqlTag)):
        if not ids:
            keys[kind] = []
            continue
        found = session.execute(
            select(model.key).where(model.run_uuid.in_(ids)).distinct().order_by(model.key)
        )
        keys[kind] = [row[0] for row in found]
    return keys


def _number(value: float) -> float | str:
    """A metric value for JSON: the infinities as MLflow's REST API writes them."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value
