"""`python -m labworks_hub.cli` is `labworks`."""

from . import main

main()
