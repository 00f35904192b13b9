"""The Labworks platform service: a FastAPI app run by JupyterHub as managed service `labworks`."""
