"""The gRPC relay: a client that sends endpoint calls, and a server that dispatches them to user functions.

Both ends use grpc's public generic API (no generated stub) with the messages of wire.py, the same channel options
as Kaggle's 0.9 relay (unlimited message size, keepalive, retry on UNAVAILABLE), and Kaggle's port order. The
server runs one handler at a time on a worker thread, as Kaggle's does: `predict` never runs on the main thread.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from types import FunctionType
from typing import Any

import grpc

from . import wire
from .defaults import DEFAULT_DEADLINE_SECONDS, GRPC_PORTS, GRPC_PORTS_V03, STARTUP_LIMIT_SECONDS
from .payload import decode, encode

__all__ = ["DEFAULT_DEADLINE_SECONDS", "GRPC_PORTS", "GRPC_PORTS_V03", "STARTUP_LIMIT_SECONDS", "Client",
           "GRPCDeadlineError", "available_port", "define_server"]

_SERVICE_CONFIG = {
    "methodConfig": [{
        "name": [{}],  # every method
        "retryPolicy": {
            "maxAttempts": 5,
            "initialBackoff": "0.1s",
            "maxBackoff": "1s",
            "backoffMultiplier": 1,  # quick feedback when the server has crashed
            "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }]
}

CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.max_send_message_length", -1),  # -1: unlimited, both ways
    ("grpc.max_receive_message_length", -1),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 1_000),
    ("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
)


class GRPCDeadlineError(Exception):
    """A call got no answer within the gateway's per-call deadline."""


# ------------------------------------------------------------------------------------------------------------ client


class Client:
    """Sends endpoint calls to an inference server at `channel_address`, trying `ports` in order.

    The first call waits up to `startup_limit_seconds` for a server, retrying only while the answer is UNAVAILABLE
    and checking between attempts that the host name still resolves (on Kaggle a name that stops resolving means
    the notebook's container is gone). `endpoint_deadline_seconds` bounds each later call, and the first too unless
    `first_call_deadline_exempt` (True in version 0.9, False from 1.7).
    """

    def __init__(self, channel_address: str = "localhost", ports: Sequence[int] = GRPC_PORTS) -> None:
        self.channel_address = channel_address
        self.ports = tuple(ports)
        self.endpoint_deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
        self.startup_limit_seconds: float = STARTUP_LIMIT_SECONDS
        self.first_call_deadline_exempt = True
        # Host names dialled as another address, for a rehearsal without container networking.
        self.host_aliases: dict[str, str] = {}
        self.channel: grpc.Channel | None = None
        self._send: Callable[..., Any] | None = None
        self._made_first_connection = False  # only a call that succeeded ends the startup wait

    def _dial_host(self) -> str:
        return self.host_aliases.get(self.channel_address, self.channel_address)

    def _connect(self, port: int) -> None:
        self.close()
        self.channel = grpc.insecure_channel(f"{self._dial_host()}:{port}", options=CHANNEL_OPTIONS)
        self._send = self.channel.unary_unary(wire.METHOD_PATH,
                                              request_serializer=wire.KaggleEvaluationRequest.SerializeToString,
                                              response_deserializer=wire.KaggleEvaluationResponse.FromString)

    def _call(self, request: Any, timeout: float | None) -> Any:
        try:
            return self._send(request, timeout=timeout, wait_for_ready=False)
        except grpc.RpcError as err:
            if isinstance(err, grpc.Call) and err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise GRPCDeadlineError(f"No response within {timeout} seconds") from err
            raise

    def _first_send(self, request: Any) -> Any:
        """Find the server: every port in order, again and again, until the startup limit has passed."""
        timeout = None if self.first_call_deadline_exempt else self.endpoint_deadline_seconds
        started = time.time()
        while time.time() - started < self.startup_limit_seconds:
            for port in self.ports:
                self._connect(port)
                try:
                    response = self._call(request, timeout)
                    self._made_first_connection = True
                    return response
                except grpc.RpcError as err:
                    if not (isinstance(err, grpc.Call) and err.code() == grpc.StatusCode.UNAVAILABLE):
                        raise
                # Raises socket.gaierror once the server's host name no longer resolves: no point waiting.
                socket.gethostbyname(self._dial_host())
                time.sleep(1 / len(self.ports))
        self.close()
        raise RuntimeError(f"Failed to connect to server after waiting {self.startup_limit_seconds} seconds")

    @staticmethod
    def serialize_request(name: str, *args: Any, **kwargs: Any) -> Any:
        """The KaggleEvaluationRequest for one call of endpoint `name`."""
        return wire.KaggleEvaluationRequest(name=name, args=[encode(arg) for arg in args],
                                            kwargs={key: encode(value) for key, value in kwargs.items()})

    def send(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call endpoint `name` on the server with these arguments and return its decoded answer."""
        request = self.serialize_request(name, *args, **kwargs)
        if not self._made_first_connection:
            response = self._first_send(request)
        else:
            response = self._call(request, self.endpoint_deadline_seconds)
        return decode(response.payload)

    def close(self) -> None:
        """Close the channel, if one is open; the next send looks for the server again."""
        if self.channel is not None:
            self.channel.close()
        self.channel, self._send, self._made_first_connection = None, None, False


# ------------------------------------------------------------------------------------------------------------ server


class _Dispatcher:
    """Runs the user's function named by the request; what it raises reaches the client as the call's error."""

    def __init__(self, listeners: Sequence[FunctionType]) -> None:
        self.listeners = {func.__name__: func for func in listeners}

    def send(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.name not in self.listeners:
            raise NotImplementedError(f"No listener for {request.name} was registered.")
        args = [decode(arg) for arg in request.args]
        kwargs = {key: decode(value) for key, value in request.kwargs.items()}
        answer = self.listeners[request.name](*args, **kwargs)
        return wire.KaggleEvaluationResponse(payload=encode(answer))


def available_port(ports: Sequence[int] = GRPC_PORTS) -> int:
    """The first of `ports` that can be bound on localhost now."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("localhost", port))
            except OSError:
                continue
        return port
    raise ValueError(f"None of the expected ports {list(ports)} are available.")


def _check_listeners(listeners: Sequence[Any]) -> None:
    if not listeners:
        raise ValueError("Must pass at least one endpoint listener, e.g. `predict`")
    for func in listeners:
        # Version 0.9 dispatches by __name__ and takes plain functions only; methods came in 1.4.
        if not isinstance(func, FunctionType):
            raise ValueError(f"Endpoint listeners passed to `serve` must be functions, got {type(func)}")
        if func.__name__ == "<lambda>":
            raise ValueError("Functions passed as endpoint listeners must be named")


def define_server(*endpoint_listeners: FunctionType, ports: Sequence[int] = GRPC_PORTS) -> grpc.Server:
    """A gRPC server bound to the first free port of `ports`, answering calls to these functions; not started."""
    _check_listeners(endpoint_listeners)
    dispatcher = _Dispatcher(endpoint_listeners)
    handler = grpc.unary_unary_rpc_method_handler(dispatcher.send,
                                                  request_deserializer=wire.KaggleEvaluationRequest.FromString,
                                                  response_serializer=wire.KaggleEvaluationResponse.SerializeToString)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=CHANNEL_OPTIONS)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(wire.SERVICE, {wire.METHOD: handler}),))
    server.add_insecure_port(f"[::]:{available_port(ports)}")
    return server

