"""Experiment tracking: the stock MLflow tracking server, served by the platform service at
`/services/labworks/mlflow/` behind hub tokens, with per-experiment and per-registered-model
sharing (owner, group, public-read) kept in MLflow's own auth store
(docs/admin-guide.md#experiment-tracking).

Modules: `env` (the client's environment; light, spawners and jobs import it), `server` (MLflow
configured and started in this process), `gate` (hub tokens in front of it, an ASGI app),
`identity` (who the request being served is for, and MLflow's `authorization_function`),
`model_files` (a registered model's readers may read its versions' files), `decisions`
(remembered decisions on the logging hot path), `runs_table` (one page of the runs table with
only the chosen columns). The sharing rules are in store/tracking.py. Imports point one way
(gate -> server -> decisions, model_files, runs_table; decisions, model_files -> identity), and
none of these modules imports FastAPI itself.
"""
