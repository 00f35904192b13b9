"""Served models: deployments of registered model versions behind one inference API.

A deployment is an endpoint name with a stable version and, during a rollout, a canary version
taking a share of the traffic. Each version runs in its own model server (`runtime/`, the
KServe Python model server, started as the deployer's account by the local backend; a KServe
InferenceService on Kubernetes, `kserve.py`). The platform's gateway authenticates each request,
picks the version and forwards it; nothing reaches a model server unauthenticated.
"""
