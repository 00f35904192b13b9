"""Notebook jobs: papermill runs of a notebook now or on a cron schedule (docs/user-guide/jobs.md).

Modules: `models` (wire types), `parameters` (the parameters cell), `queue` (slots and
resources), `scheduler` (cron), `artifacts` (output store), `notify` (webhooks), `executors`
(where attempts run), `runner` (the script of one local attempt), `service` (the loop),
`operations` (what users ask).
"""
