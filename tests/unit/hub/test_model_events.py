"""The registered models' changelog on SQLite and PostgreSQL (store/model_events.py), and the
pure parts of a version's view (serving/versions.py): its lineage from a run's tags, alias
names."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from labworks_hub.service.access import Invalid
from labworks_hub.service.serving.versions import check_alias, lineage_of
from labworks_hub.service.store import model_events as events


def test_the_migration_creates_the_table(store):
    assert "lw_model_events" in inspect(store.engine).get_table_names()


def test_history_is_per_model_newest_first_and_follows_renames_and_deletes(store):
    with store.session() as s:
        events.record(s, "churn", events.REGISTER, "ana", to_version="1")
        events.record(s, "churn", events.ALIAS_SET, "ana", alias="production", to_version="1")
        events.record(s, "churn", events.ALIAS_SET, "ana", alias="production",
                      from_version="1", to_version="2", reason="better AUC " * 200)  # fmt: skip
        events.record(s, "other", events.REGISTER, "ben", to_version="1")
    with store.session() as s:
        found = events.history(s, "churn")
        assert [(e.action, e.from_version, e.to_version) for e in found] == [
            ("alias.set", "1", "2"), ("alias.set", None, "1"), ("register", None, "1"),
        ]  # fmt: skip
        assert len(found[0].reason) == events.MAX_REASON
        assert found[0].at.tzinfo is not None
        assert [e.actor for e in events.history(s, "other")] == ["ben"]
        events.follow_model(s, "rename", "churn", "churn2")
    with store.session() as s:
        assert events.history(s, "churn") == []
        assert len(events.history(s, "churn2")) == 3
        # A new model of an old name starts with no history of the old one.
        events.follow_model(s, "create", "churn2")
        events.follow_model(s, "delete", "other")
    with store.session() as s:
        assert events.history(s, "churn2") == [] and events.history(s, "other") == []


def test_an_unknown_action_is_refused(store):
    with store.session() as s, pytest.raises(ValueError, match="unknown model event"):
        events.record(s, "churn", "alias.sett", "ana")


def test_lineage_is_read_from_the_runs_tags_and_dataset_inputs():
    tags = {
        "labworks.user": "ana",
        "labworks.notebook.path": "work/train.ipynb",
        "labworks.job.id": "0123456789ab",
        "labworks.param.alpha": "0.5",
        "labworks.param.epochs": "3",
        "labworks.dataset.ana/iris": "2",
        "labworks.image.digest": "sha256:" + "a" * 64,
        "mlflow.user": "ana",
    }
    inputs = [("ana/iris", "1"), ("ben/extra", None)]
    found = lineage_of("r1", "7", "fit", tags, inputs)
    assert found.readable and found.run_id == "r1" and found.experiment_id == "7"
    assert found.notebook == "work/train.ipynb" and found.job_id == "0123456789ab"
    assert found.parameters == {"alpha": "0.5", "epochs": "3"}
    # The input's own version tag wins over the run's (the last read); none: unknown.
    assert found.datasets == [{"name": "ana/iris", "version": "1"},
                              {"name": "ben/extra", "version": ""}]  # fmt: skip
    assert found.image_digest == "sha256:" + "a" * 64 and found.image is None
    empty = lineage_of("r2", "7", None, {}, [])
    assert empty.parameters == {} and empty.datasets == [] and empty.notebook is None
    assert empty.cost_usd is None
    assert lineage_of("r3", "7", None, {}, [], 0.0125).cost_usd == 0.0125  # the job's metric


@pytest.mark.parametrize("alias", ["production", "staging_2", "Champion-A", "_x"])
def test_alias_names_as_mlflow_takes_them(alias):
    assert check_alias(alias) == alias


@pytest.mark.parametrize("alias", ["", "latest", "LATEST", "v3", "V12", "a b", "a/b", "prod\n",
                                   "x" * 256, "é"])  # fmt: skip
def test_other_alias_names_are_refused(alias):
    with pytest.raises(Invalid, match="not an alias"):
        check_alias(alias)
