"""Benchmark: the inference-server protocol's overhead per call (serialization both ways plus the gRPC round trip).

The server runs in its own process, as the notebook does on Kaggle, and answers at once, so what is timed is the
protocol alone: AIMO3-shaped one-row calls (`predict(id_, problem)` with two polars Series, a one-row polars
DataFrame back), then calls carrying a 1,000-row polars DataFrame each way. Target: >= 200 one-row calls per second.

Usage: python scripts/bench_gateway.py [--calls N] [--frame-calls N] [--rows N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

import polars as pl

from kit.mechanisms.inference_server.kaggle_evaluation.core.relay import Client

SERVER = """
import sys
import polars as pl
from kit.mechanisms.inference_server.kaggle_evaluation.core.relay import define_server

def predict(*columns):
    first = columns[0]
    ids = first['id'] if isinstance(first, pl.DataFrame) else first
    return pl.DataFrame({'id': ids, 'answer': pl.Series([0] * len(ids), dtype=pl.Int64)})

server = define_server(predict, ports=(int(sys.argv[1]),))
server.start()
server.wait_for_termination()
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _timed(client: Client, calls: int, *args: object) -> list[float]:
    """Seconds per call for `calls` calls of predict(*args), each answer checked for its row count."""
    times = []
    rows = len(args[0])
    for _ in range(calls):
        start = time.perf_counter()
        answer = client.send("predict", *args)
        times.append(time.perf_counter() - start)
        assert answer.height == rows
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000, help="one-row calls")
    parser.add_argument("--frame-calls", type=int, default=100, help="calls with the large frame")
    parser.add_argument("--rows", type=int, default=1000, help="rows of the large frame")
    args = parser.parse_args()

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    client = Client("localhost", (port,))
    try:
        row = pl.DataFrame({"id": ["a1b2c3"], "problem": ["Find the remainder when $2^{100}$ is divided by 7."]})
        id_, problem = row  # iterating a polars frame gives its columns: predict(id_, problem), as in AIMO3
        _timed(client, 20, id_, problem)  # connect and warm up
        one_row = _timed(client, args.calls, id_, problem)

        frame = pl.DataFrame({"id": [f"r{i}" for i in range(args.rows)],
                              "problem": [f"problem text number {i} " * 8 for i in range(args.rows)]})
        _timed(client, 3, frame)
        big = _timed(client, args.frame_calls, frame)
    finally:
        client.close()
        server.kill()
        server.wait()

    print(f"{args.rows}-row polars frame each way: median {statistics.median(big) * 1000:.2f} ms per call "
          f"({args.frame_calls} calls)")
    print(f"one-row calls: median {statistics.median(one_row) * 1000:.2f} ms, "
          f"p95 {sorted(one_row)[int(0.95 * len(one_row))] * 1000:.2f} ms ({args.calls} calls)")
    print(f"one-row calls per second: {len(one_row) / sum(one_row):.0f} (target >= 200)")


if __name__ == "__main__":
    main()
