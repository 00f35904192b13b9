"""The runs table's page (`POST /api/v1/experiments/runs/table`, tracking/runs_table.py).

The query on MLflow's own SQL store, on SQLite and on PostgreSQL (schema `mlflow`, as the
platform keeps it): its pages, filters and sorts are MLflow's `search_runs`', with only the chosen
columns. Then the route on the real platform, runs logged by the stock client as two users:
the same agreement, MLflow's message for a bad filter (400), another user's private experiment
hidden (404), no token (401).
"""

from __future__ import annotations

import base64
import json
import math
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, event, inspect, text

from labworks_hub.service.access import Invalid
from labworks_hub.service.tracking import runs_table
from labworks_hub.service.tracking.server import in_schema
from tests.integration.test_tracking import as_user
from tests.platform import API

# (filter, order_by) pairs both sides must agree on: metric, param, tag and attribute sorts,
# NaN and missing values, ILIKE, and a filter on a key only some runs have.
QUERIES = [
    ("", []),
    ("", ["metrics.acc DESC"]),
    ("", ["metrics.acc ASC"]),
    ("", ["params.opt ASC", "metrics.loss DESC"]),
    ("", ["tags.team DESC"]),
    ("", ["attributes.run_name ASC"]),
    ("metrics.acc > 0.3", ["metrics.acc DESC"]),
    ("params.opt = 'adam' and tags.team ILIKE '%A%'", []),
    ("attributes.status = 'FINISHED'", ["metrics.loss ASC"]),
]


def log_runs(mlflow_store, experiment_id: str) -> list[str]:
    """13 runs: acc (one NaN, one +inf, one missing), loss, params opt/lr, tags team."""
    from mlflow.entities import Metric, Param, RunStatus, RunTag

    ids = []
    for i in range(13):
        run = mlflow_store.create_run(experiment_id, "rt", 1000 + i % 5, [], f"run-{i:02d}")
        acc = [0.1 * (i % 7), math.nan, math.inf][i % 3] if i % 4 else None
        metrics = [Metric("loss", 1.0 / (i + 1), 0, 0), Metric("extra", i, 0, 0)]
        if acc is not None:
            metrics.append(Metric("acc", acc, 0, 0))
        mlflow_store.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=[Param("opt", ["adam", "sgd"][i % 2]), Param("lr", str(i))],
            tags=[RunTag("team", "abc"[i % 3])],
        )
        if i % 5 == 0:
            mlflow_store.update_run_info(run.info.run_id, RunStatus.FINISHED, 5000, f"run-{i:02d}")
        ids.append(run.info.run_id)
    return ids


@pytest.fixture
def mlflow_store(db_url, tmp_path):
    """MLflow's SqlAlchemyStore on a fresh database; PostgreSQL in schema `mlflow`."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    if db_url.startswith("postgresql"):
        engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA mlflow"))
        engine.dispose()
        db_url = in_schema(db_url, "mlflow")
    store = SqlAlchemyStore(db_url, str(tmp_path / "artifacts"))
    yield store
    store.engine.dispose()


def pages(fetch, max_results: int) -> list[list[str]]:
    """Every page's run ids; `fetch(token)` returns (ids, next token)."""
    found, token = [], None
    while True:
        ids, token = fetch(token)
        assert len(ids) <= max_results
        found.append(ids)
        if not token:
            return found


@pytest.mark.parametrize(("filter_", "order_by"), QUERIES)
def test_pages_agree_with_mlflow_search_runs(mlflow_store, filter_, order_by):
    experiment_id = mlflow_store.create_experiment(f"rt-{uuid.uuid4().hex[:8]}")
    log_runs(mlflow_store, experiment_id)
    columns = runs_table.Columns(metrics=("acc",), params=("opt",), tags=("team",))

    def ours(token):
        query = runs_table.RunsQuery(
            (experiment_id,), filter_, tuple(order_by), 4, token, columns=columns
        )
        page = runs_table.runs_page(mlflow_store, query)
        ours.runs += page.runs
        return [r["info"]["run_id"] for r in page.runs], page.next_page_token

    ours.runs = []

    def theirs(token):
        page = mlflow_store.search_runs([experiment_id], filter_, 1, 4, order_by, token)
        theirs.runs += page
        return [r.info.run_id for r in page], page.token

    theirs.runs = []
    assert pages(ours, 4) == pages(theirs, 4)
    assert ours.runs, "every query matches some runs"
    for mine, mlflow_run in zip(ours.runs, theirs.runs, strict=True):
        data = mine["data"]
        assert {m["key"] for m in data["metrics"]} <= {"acc"}
        assert [p["key"] for p in data["params"]] == ["opt"]
        assert [t["key"] for t in data["tags"]] == ["team"]
        expected = mlflow_run.data.metrics.get("acc")
        got = data["metrics"][0]["value"] if data["metrics"] else None
        if expected is None or not math.isnan(expected):
            assert got == {math.inf: "Infinity"}.get(expected, expected)
        else:
            assert got == "NaN"
        assert data["params"][0]["value"] == mlflow_run.data.params["opt"]
        info = mine["info"]
        assert info["run_name"] == mlflow_run.info.run_name
        assert info["status"] == mlflow_run.info.status
        assert info["start_time"] == mlflow_run.info.start_time
        assert info["experiment_id"] == experiment_id


def test_keys_bad_input_and_the_sort_index(mlflow_store):
    experiment_id = mlflow_store.create_experiment("rt-keys")
    log_runs(mlflow_store, experiment_id)
    for _ in range(2):  # idempotent
        runs_table.ensure_indexes(mlflow_store)
    indexes = inspect(mlflow_store.engine).get_indexes("latest_metrics")
    assert [i["column_names"] for i in indexes if i["name"] == runs_table.SORT_INDEX] == [
        ["key", "run_uuid", "is_nan", "value"]
    ]
    page = runs_table.runs_page(mlflow_store, runs_table.RunsQuery((experiment_id,)))
    assert len(page.runs) == 13 and page.next_page_token is None
    assert all(r["data"] == {"metrics": [], "params": [], "tags": []} for r in page.runs)
    assert page.keys["metrics"] == ["acc", "extra", "loss"]
    assert page.keys["params"] == ["lr", "opt"]
    assert "team" in page.keys["tags"] and "mlflow.runName" in page.keys["tags"]
    from mlflow.exceptions import MlflowException

    for filter_, order_by, token in (
        ("metrics.acc >>> 1", (), None),
        ("", ("metrics.acc SIDEWAYS",), None),
        ("", (), "not-a-token"),
    ):
        with pytest.raises(MlflowException) as mlflow_error:
            mlflow_store.search_runs([experiment_id], filter_, 1, 5, list(order_by), token)
        with pytest.raises(Invalid) as ours:
            query = runs_table.RunsQuery((experiment_id,), filter_, order_by, 5, token)
            runs_table.runs_page(mlflow_store, query)
        assert str(ours.value) == mlflow_error.value.message


# SQLite only: it ignores the index until the server samples statistics (what this checks);
# PostgreSQL plans with the statistics its autovacuum keeps.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_metric_sort_looks_values_up_in_the_sort_index(mlflow_store):
    experiment_id = mlflow_store.create_experiment("rt-plan")
    runs_table.ensure_indexes(mlflow_store)  # a new server: no statistics yet
    log_runs(mlflow_store, experiment_id)
    log_runs(mlflow_store, experiment_id)
    statements = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        if "ORDER BY clause_1" in statement:
            statements.append((statement, parameters))

    event.listen(mlflow_store.engine, "before_cursor_execute", remember)
    query = runs_table.RunsQuery((experiment_id,), order_by=("metrics.acc DESC",))
    assert len(runs_table.runs_page(mlflow_store, query).runs) == 25
    [(statement, parameters)] = statements
    with mlflow_store.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    # Not the primary key (SQLite's choice without statistics): at 2 million rows the plan is
    # "SEARCH latest_metrics USING COVERING INDEX labworks_latest_metrics_sort".
    searches = [row[3] for row in plan if row[3].startswith("SEARCH latest_metrics")]
    assert len(searches) == 1 and f"INDEX {runs_table.SORT_INDEX} " in searches[0], plan


# --- the route on the platform ---------------------------------------------------------------


@pytest.fixture(scope="module")
def table_people(platform):
    platform.add_user("rtann")
    platform.add_user("rtbob")
    return {name: platform.token(name) for name in ("rtann", "rtbob")}


LOG = """
from mlflow.entities import Metric, Param, RunTag
experiment_id = mlflow.create_experiment(NAME)
for i in range(12):
    run = client.create_run(experiment_id, run_name=f"run-{i:02d}", start_time=1000 + i % 4)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(f"m{j:02d}", (i * 7 + j) % 11 / 10, 0, 0) for j in range(30)],
        params=[Param("opt", ["adam", "sgd"][i % 2]), Param("lr", str(i))],
        tags=[RunTag("team", "abc"[i % 3])],
    )
    client.set_terminated(run.info.run_id)
"""


@pytest.fixture(scope="module")
def experiments(platform, table_people) -> dict[str, str]:
    """Each user's private experiment of 12 runs, 30 metrics each; user -> experiment id."""
    found = {}
    for user in ("rtann", "rtbob"):
        name = f"rt-{user}-{uuid.uuid4().hex[:6]}"
        code = f"NAME = {name!r}\n" + LOG + "print(json.dumps({'id': experiment_id}))"
        found[user] = as_user(platform, table_people[user], code)["id"]
    return found


def table(platform, token: str | None, body: dict) -> httpx.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.post(
        platform.url + API + "/experiments/runs/table", json=body, headers=headers, timeout=60
    )


@pytest.mark.e2e
def test_route_pages_agree_with_the_stock_client(platform, table_people, experiments):
    token, experiment_id = table_people["rtann"], experiments["rtann"]
    for filter_, order_by in [
        ("", ["metrics.m03 DESC"]),
        ("params.opt = 'sgd'", ["tags.team ASC", "metrics.m01 ASC"]),
        ("metrics.m05 >= 0.5", []),
    ]:
        columns = {"metrics": ["m03", "m29"], "tags": ["team"]}
        body = {"experiment_ids": [experiment_id], "filter": filter_, "order_by": order_by,
                "max_results": 5, "columns": columns}  # fmt: skip
        ours, runs, next_token = [], [], None
        while True:
            reply = table(platform, token, {**body, "page_token": next_token})
            assert reply.status_code == 200, reply.text
            page = reply.json()
            ours.append([r["info"]["run_id"] for r in page["runs"]])
            runs += page["runs"]
            next_token = page["next_page_token"]
            if not next_token:
                break
        theirs = as_user(
            platform,
            token,
            f"""
            pages, token = [], None
            while True:
                page = client.search_runs([{experiment_id!r}], {filter_!r}, max_results=5,
                                          order_by={order_by!r}, page_token=token)
                pages.append([[r.info.run_id, r.data.metrics["m03"], r.data.tags["team"],
                               r.info.user_id] for r in page])
                token = page.token
                if not token:
                    break
            print(json.dumps(pages))
            """,
        )
        assert ours == [[run[0] for run in page] for page in theirs]
        expected = {run[0]: run[1:] for page in theirs for run in page}
        for run in runs:
            data = run["data"]
            assert [m["key"] for m in data["metrics"]] == ["m03", "m29"]
            assert data["params"] == []
            assert data["tags"] == [{"key": "team", "value": expected[run["info"]["run_id"]][1]}]
            assert data["metrics"][0]["value"] == expected[run["info"]["run_id"]][0]
            assert run["info"]["status"] == "FINISHED"
            assert run["info"]["user_id"] == expected[run["info"]["run_id"]][2]
        assert page["keys"]["metrics"] == [f"m{j:02d}" for j in range(30)]
        assert page["keys"]["params"] == ["lr", "opt"]


@pytest.mark.e2e
def test_route_refuses_bad_filters_hidden_experiments_and_no_token(
    platform, table_people, experiments
):
    ann, bob = table_people["rtann"], table_people["rtbob"]
    bad = table(
        platform, ann, {"experiment_ids": [experiments["rtann"]], "filter": "metrics.x >>> 1"}
    )
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"] == "bad_request"
    mlflow_says = as_user(
        platform,
        ann,
        f"""
        try:
            client.search_runs([{experiments["rtann"]!r}], "metrics.x >>> 1")
        except MlflowException as e:
            print(json.dumps(e.message))
        """,
    )
    # The client prefixes MLflow's error code; the text is the same (one server process).
    assert mlflow_says == f"INVALID_PARAMETER_VALUE: {bad.json()['message']}"
    sort = table(platform, ann, {"experiment_ids": [experiments["rtann"]],
                                 "order_by": ["metrics.m01 UP"]})  # fmt: skip
    assert sort.status_code == 400 and "m01 UP" in sort.json()["message"]
    too_many = table(platform, ann, {"experiment_ids": [experiments["rtann"]], "max_results": 1001})
    assert too_many.status_code == 422
    for ids in ([experiments["rtbob"]], [experiments["rtann"], experiments["rtbob"]], ["999999"]):
        hidden = table(platform, ann, {"experiment_ids": ids})
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["error"] == "not_found"
    assert table(platform, bob, {"experiment_ids": [experiments["rtbob"]]}).status_code == 200
    anonymous = table(platform, None, {"experiment_ids": [experiments["rtann"]]})
    assert anonymous.status_code == 401


def token_of(offset: object) -> str:
    """A page token in MLflow's form, carrying any offset."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [token_of(2**63), token_of(10**30), token_of(-5), base64.b64encode(b"[1]").decode(),
     base64.b64encode(b'{"offset": 1e999}').decode()],
)  # fmt: skip
def test_a_page_token_out_of_range_is_refused_not_a_crash(mlflow_store, token):
    experiment_id = mlflow_store.create_experiment(f"rt-{uuid.uuid4().hex[:8]}")
    with pytest.raises(Invalid, match="page_token: not a page token of this table"):
        runs_table.runs_page(mlflow_store, runs_table.RunsQuery((experiment_id,), page_token=token))


def test_a_number_out_of_range_in_the_filter_is_refused_not_a_crash(mlflow_store):
    experiment_id = mlflow_store.create_experiment(f"rt-{uuid.uuid4().hex[:8]}")
    log_runs(mlflow_store, experiment_id)
    for filter_ in (
        "attributes.start_time > 99999999999999999999",
        "attributes.end_time < -99999999999999999999",
    ):
        with pytest.raises(Invalid, match="filter: a number in it is out of range"):
            runs_table.runs_page(mlflow_store, runs_table.RunsQuery((experiment_id,), filter_))
    last = runs_table.RunsQuery((experiment_id,), page_token=token_of(12))
    assert len(runs_table.runs_page(mlflow_store, last).runs) == 1  # a real offset still pages
