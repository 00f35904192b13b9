"""HTTP routers of the platform service, one module per domain."""
