"""A local server speaking Kaggle's HTTP API, for tests and the `--sandbox` mode.

The official `kaggle` client reaches it unmodified (KAGGLE_API_ENVIRONMENT=LOCALHOST plus HTTP_PROXY). It keeps
state on disk, walks datasets to READY, runs pushed kernels with papermill in a simulated input tree, scores code
submissions with a pluggable competition pack, and injects faults on demand.
"""

from kit.kaggle.emulator.server import EmulatorServer, Running, serve, start_in_thread

__all__ = ["EmulatorServer", "Running", "serve", "start_in_thread"]
