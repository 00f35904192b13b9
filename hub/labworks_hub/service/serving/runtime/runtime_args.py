"""The model server's arguments (a module of their own: tests read them as the server does)."""

from __future__ import annotations

import argparse

TASKS = ("classification", "regression", "multilabel", "seq2seq")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="runtime", description="A Labworks model server.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="Unix socket to bind (mode 0660) in an existing folder")
    where.add_argument("--port", type=int, help="TCP port on --host (benchmarks, tests, images)")
    parser.add_argument("--host", default="127.0.0.1", help="with --port (the image: 0.0.0.0)")
    parser.add_argument("--name", required=True, help="endpoint name: /v2/models/<name>/...")
    parser.add_argument("--version", required=True, help="the model version served")
    parser.add_argument("--model-uri", required=True, help="models:/<name>/<v>, a path, file://")
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--max-body", type=int, default=8 << 20, help="request bytes (413 over)")
    parser.add_argument("--max-rows", type=int, default=100_000, help="rows a request may hold")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning"])
    return parser.parse_args(argv)
