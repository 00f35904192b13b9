"""Data sources: object stores, databases and folders that live outside the platform, read in
workspaces and jobs without credentials in notebooks (docs/admin/data-sources.md)."""
