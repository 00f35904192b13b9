"""Executors run job attempts: `local` (papermill processes) and `kubernetes` (a Job per attempt).

Selected by `c.JobService.executor_class`, entry point group `labworks.executors`."""
