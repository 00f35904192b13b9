"""Sweeps: hyperparameter search over a notebook's parameters, each trial a notebook job.

`space` reads the search space, `journal` keeps Optuna's study in the platform store,
`engine` drives running sweeps, `runs` is their MLflow side, `operations` what users ask.
"""
