"""The protocol's fixed numbers, stdlib only so that specs can name them without importing grpc."""

from __future__ import annotations

# Version 0.9 tries 50051 first, then ten fallbacks for when a port is taken; version 0.3 knew only 50051.
GRPC_PORTS: tuple[int, ...] = (50051, *range(60053, 60063))
GRPC_PORTS_V03: tuple[int, ...] = (50051,)

# A gateway's per-call deadline unless the competition sets its own.
DEFAULT_DEADLINE_SECONDS = 60 * 60
# How long the gateway's first call waits for a server to come up. Kaggle keeps it short so that a notebook which
# never reaches serve() fails fast; slow steps such as loading a model can run inside the first predict instead.
STARTUP_LIMIT_SECONDS = 60 * 15
