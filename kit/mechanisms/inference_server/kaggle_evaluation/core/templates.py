"""The two classes a competition subclasses: its Gateway (the host's side) and its InferenceServer (the user's).

A notebook builds `<Comp>InferenceServer(predict)`, which binds a port at once; `serve()` starts it and, on a
scoring rerun, blocks for good; `run_local_gateway(paths)` instead runs the competition's gateway in this process
against local files.
"""

from __future__ import annotations

import abc
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from types import FunctionType
from typing import Any

from .base_gateway import BaseGateway
from .relay import GRPC_PORTS, STARTUP_LIMIT_SECONDS, define_server

_IMPORTED_AT = time.time()
_warned_about_startup = False


class Gateway(BaseGateway, abc.ABC):
    """A competition's gateway: where its data is, how it is cut into batches, how answers are checked."""

    @abc.abstractmethod
    def unpack_data_paths(self) -> None:
        """Map self.data_paths (None on Kaggle: use the default paths) to the files this gateway reads."""

    @abc.abstractmethod
    def generate_data_batches(self) -> Iterator[tuple[Any, Any]]:
        """Yield `(data_batch, row_ids)`; the elements of data_batch are predict's positional arguments."""

    @abc.abstractmethod
    def competition_specific_validation(self, prediction_batch: Any, row_ids: Any, data_batch: Any) -> None:
        """Raise a GatewayRuntimeError for a prediction batch this competition cannot accept."""


class InferenceServer(abc.ABC):
    """The user's side: serves the given functions (usually just `predict`) to the gateway."""

    ports: Sequence[int] = GRPC_PORTS  # the competition's port list, shared with its gateway

    def __init__(self, *endpoint_listeners: FunctionType) -> None:
        self.server = define_server(*endpoint_listeners, ports=self.ports)
        self.client = None  # an inference server may call the gateway back; none here does
        self.gateway: BaseGateway | None = None
        self._startup_limit_seconds = STARTUP_LIMIT_SECONDS

    def serve(self) -> None:
        """Start serving; on a scoring rerun (the flag is read now, not at import) block until killed."""
        self.server.start()
        if os.getenv("KAGGLE_IS_COMPETITION_RERUN") is not None:
            self.server.wait_for_termination()

    @abc.abstractmethod
    def _get_gateway_for_test(self, data_paths: Sequence[str] | None = None, file_share_dir: str | None = None,
                              *args: Any, **kwargs: Any) -> BaseGateway:
        """The competition's gateway, reading local files."""

    def run_local_gateway(self, data_paths: Sequence[str] | None = None, file_share_dir: str | None = None,
                          *args: Any, **kwargs: Any) -> None:
        """Run the competition's gateway here against `data_paths`; the server is stopped however it ends."""
        global _warned_about_startup
        elapsed = time.time() - _IMPORTED_AT
        if elapsed > self._startup_limit_seconds and not _warned_about_startup:
            # On the rerun the gateway would have given up waiting by now.
            warnings.warn(f"{int(elapsed)} seconds elapsed before server startup. This exceeds the startup time "
                          f"limit of {int(self._startup_limit_seconds)} seconds that the gateway will enforce during "
                          "the rerun on the hidden test set. Start the server before performing any time consuming "
                          "steps.", category=RuntimeWarning, stacklevel=2)
            _warned_about_startup = True
        self.server.start()
        try:
            self.gateway = self._get_gateway_for_test(data_paths, file_share_dir, *args, **kwargs)
            self.gateway.run()
        except Exception as err:
            raise err from None
        finally:
            self.server.stop(0)
