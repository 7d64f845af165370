"""A gateway driven by a GatewaySpec: read one CSV, shuffle it, send it batch by batch, no extra checks.

This is the shape of AIMO3's gateway (one row per call, `predict(id_, problem)`), with the competition's facts
moved into the spec. `main` is the gateway process's entry: another process starts it with the rerun flag set,
the hidden test file as an argument and, without container networking, a host mapping for `inference_server`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import polars as pl

from .spec import GatewaySpec
from .templates import Gateway

CALLS_FILE = "gateway_calls.jsonl"  # one line per call: when it was sent and when the answer came back


class SpecGateway(Gateway):
    """The gateway of the competition `spec` describes; each competition subclasses it with its spec."""

    spec: ClassVar[GatewaySpec]

    def __init__(self, data_paths: Sequence[str] | None = None, file_share_dir: str | None = None, *,
                 use_private_set: bool = False) -> None:
        spec = self.spec
        super().__init__(data_paths, file_share_dir, target_column_name=spec.target_column,
                         row_id_column_name=spec.row_id_column, ports=spec.ports)
        self.client.first_call_deadline_exempt = spec.first_call_exempt
        self.set_response_timeout_seconds(spec.deadline_seconds)
        self.use_private_set = use_private_set  # Kaggle sets it for the private rerun: rows then keep file order
        self.shuffle_seed: int | None = None
        self.test_path: str | None = None

    def unpack_data_paths(self) -> None:
        self.test_path = self.data_paths[0] if self.data_paths else self.spec.default_data_path

    def generate_data_batches(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        test = pl.read_csv(self.test_path)
        if self.spec.shuffle and not self.use_private_set:
            # A fresh seed each run, so a notebook cannot rely on the order it saw last time.
            self.shuffle_seed = int.from_bytes(os.urandom(4), byteorder="big")
            test = test.sample(fraction=1.0, shuffle=True, with_replacement=False, seed=self.shuffle_seed)
        for rows in test.iter_slices(n_rows=self.spec.rows_per_call):
            # predict(*batch) unpacks a polars frame into its columns: one Series argument per column.
            batch = rows.select(self.spec.predict_columns) if self.spec.predict_columns else rows
            yield batch, rows.select(self.spec.row_id_column)

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Send one batch, and note when it went and came back in `gateway_calls.jsonl` (the CWD), so a rehearsal
        can tell the time to the first answer (the startup window's measure) and each call's seconds."""
        sent = time.time()
        try:
            return super().predict(*args, **kwargs)
        finally:
            with open(CALLS_FILE, "a", encoding="utf-8") as log:
                log.write(json.dumps({"sent": sent, "answered": time.time()}) + "\n")

    def competition_specific_validation(self, prediction_batch: Any, row_ids: Any, data_batch: Any) -> None:
        """None: like AIMO3's gateway, the answer's range and type are the metric's business, not the gateway's."""


def _parser(gateway_cls: type[SpecGateway]) -> argparse.ArgumentParser:
    spec = gateway_cls.spec
    parser = argparse.ArgumentParser(prog=f"python -m kaggle_evaluation.{spec.module_prefix}_gateway",
                                     description=f"The {spec.competition} gateway; runs only when "
                                                 "KAGGLE_IS_COMPETITION_RERUN is set, as on Kaggle.")
    parser.add_argument("data_paths", nargs="*", help=f"test file (default {spec.default_data_path})")
    parser.add_argument("--host", action="append", default=[], metavar="NAME=ADDRESS",
                        help="dial host NAME at ADDRESS, e.g. inference_server=127.0.0.1")
    parser.add_argument("--startup-limit", type=float, metavar="SECONDS",
                        help="how long the first call waits for the server (default 900)")
    parser.add_argument("--private-set", action="store_true", help="keep the file's row order (no shuffle)")
    return parser


def main(gateway_cls: type[SpecGateway], argv: Sequence[str] | None = None) -> int:
    """Run the gateway as Kaggle's scoring rerun does; result.json and submission.parquet land in the CWD."""
    parser = _parser(gateway_cls)
    args = parser.parse_args(argv)
    if not os.getenv("KAGGLE_IS_COMPETITION_RERUN"):
        print("Skipping run for now")
        return 0
    gateway = gateway_cls(args.data_paths or None, use_private_set=args.private_set)
    for pair in args.host:
        name, sep, address = pair.partition("=")
        if not (sep and name and address):
            parser.error(f"--host {pair!r} is not NAME=ADDRESS")
        gateway.map_host(name, address)
    if args.startup_limit is not None:
        gateway.set_startup_limit_seconds(args.startup_limit)
    gateway.run()
    return 0

