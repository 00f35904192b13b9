"""`python -P runtime --socket PATH --name E --version V --model-uri URI --task T`: a model server.

This folder is run as a program by the serving environment's interpreter
(`.venv/lib/serving/bin/python`, or the serving image's), never imported by the platform: its
modules (runtime_checks, runtime_model, runtime_server; the folder is their sys.path entry)
import nothing from labworks_hub. It serves
one MLflow model version under one endpoint name with KServe's own REST server (RESTServer,
DataPlane, ModelRepository and a kserve `Model`), speaking the Open Inference Protocol v2 on a
Unix socket (mode 0660; the platform's gateway authenticates callers and forwards to it) or on
TCP --port (127.0.0.1 unless --host says otherwise: the serving image listens on 0.0.0.0).

The socket is bound before the model loads: `/v2/health/ready` and `/v2/models/<name>/ready`
answer 503 until it has loaded, 200 after. A model that cannot be loaded ends the process with
status 1 and one line on stderr. Before KServe decodes a request, its inputs are checked against
the model's signature (names, datatypes, shapes against their data, at most --max-rows rows) for
a 400 naming the bad tensor; a body over --max-body gets 413 before it is read. Outputs follow
the task type (docs/admin/serving.md): classification `label` + `scores`, regression `value`,
multilabel `labels` + `scores`, seq2seq `text`. stderr stays quiet: warnings, and one line per
request at DEBUG (--log-level debug), never a request body.
"""

from __future__ import annotations

import sys

from runtime_args import arguments

# kserve.model_server parses sys.argv when imported (runtime_server imports it): it must not
# see ours.
ARGS = arguments(sys.argv[1:])
sys.argv = sys.argv[:1]

from runtime_server import main  # noqa: E402

sys.exit(main(ARGS))
