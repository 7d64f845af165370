"""The gateway's machinery: call `predict` batch by batch, validate, write the submission and the result file.

On Kaggle's scoring rerun the gateway runs in its own container, dials the notebook under the host name
`inference_server`, and reports through `result.json` (its error types map to the canned messages users see).
Off a rerun it dials localhost and raises instead. Whether this is a rerun is read once, at import, as Kaggle does.
"""

from __future__ import annotations

import enum
import json
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from socket import gaierror
from typing import Any

import grpc
import numpy as np
import pandas as pd
import polars as pl

from .relay import GRPC_PORTS, Client, GRPCDeadlineError

IS_RERUN = os.getenv("KAGGLE_IS_COMPETITION_RERUN") is not None
RERUN_HOST = "inference_server"
RESULT_FILE = "result.json"
SUBMISSION_FILE = "submission.parquet"
MAX_ERROR_DETAILS = 8000

_DATAFRAME_LIKE_TYPES = (pl.DataFrame, pl.Series, pd.DataFrame, pd.Series)
_SCALAR_ROW_ID_TYPES = (str, int)
# One prediction per batch. np.int_ is listed because numpy ints are not Python ints (numpy floats are floats);
# np.int32 or np.float32 are not, and fail as an invalid type.
_ONE_ROW_TYPES = (int, float, str, bool, np.int_)


class GatewayRuntimeErrorType(enum.Enum):
    """What went wrong, as the gateway reports it; each maps to a canned message shown to the user.

    Errors left unclassified count as Kaggle's fault and do not use up a daily submission.
    """

    UNSPECIFIED = 0
    SERVER_NEVER_STARTED = 1
    SERVER_CONNECTION_FAILED = 2
    SERVER_RAISED_EXCEPTION = 3
    SERVER_MISSING_ENDPOINT = 4
    GATEWAY_RAISED_EXCEPTION = 5  # anything the gateway did not classify, with its full traceback
    INVALID_SUBMISSION = 6
    GRPC_DEADLINE_EXCEEDED = 7


class GatewayRuntimeError(Exception):
    """An error of a known type, with details visible to the competition host (not to the user)."""

    def __init__(self, error_type: GatewayRuntimeErrorType, error_details: str | None = None) -> None:
        super().__init__(f"{error_type.name}: {error_details}" if error_details else error_type.name)
        self.error_type = error_type
        self.error_details = error_details


def _row_count(batch: Any) -> int:
    """Rows in a prediction batch: a primitive is one row, a frame or series its length."""
    if batch is None:
        raise GatewayRuntimeError(GatewayRuntimeErrorType.INVALID_SUBMISSION, "No prediction received")
    if isinstance(batch, _ONE_ROW_TYPES):
        return 1
    if not isinstance(batch, _DATAFRAME_LIKE_TYPES):
        raise GatewayRuntimeError(GatewayRuntimeErrorType.INVALID_SUBMISSION,
                                  f"Invalid prediction data type, received: {type(batch)}")
    return len(batch)


def _expected_rows(row_ids: Any) -> int:
    if isinstance(row_ids, _SCALAR_ROW_ID_TYPES):
        return 1
    if not isinstance(row_ids, _DATAFRAME_LIKE_TYPES):
        raise GatewayRuntimeError(GatewayRuntimeErrorType.GATEWAY_RAISED_EXCEPTION,
                                  f"Invalid row ID type {type(row_ids)}; expected a string, int, DataFrame, or Series")
    return len(row_ids)


def _concat(batches: list[Any]) -> Any:
    """One table from the batches: pandas concatenated, polars relaxed to common types, scalars as one series."""
    if isinstance(batches[0], (pd.DataFrame, pd.Series)):
        return pd.concat(batches, ignore_index=True)
    if isinstance(batches[0], (pl.DataFrame, pl.Series)):
        try:
            return pl.concat(batches, how="vertical_relaxed")
        except pl.exceptions.SchemaError:
            raise GatewayRuntimeError(GatewayRuntimeErrorType.INVALID_SUBMISSION,
                                      "Inconsistent prediction types") from None
        except pl.exceptions.ComputeError:
            raise GatewayRuntimeError(GatewayRuntimeErrorType.INVALID_SUBMISSION,
                                      "Inconsistent prediction column counts") from None
    return pl.Series(batches)


def to_frame(batches: Any, series_name: str | None = None) -> pl.DataFrame | pd.DataFrame:
    """List -> series -> frame, naming an unnamed series `series_name` (refused when there is no name to give)."""
    data = _concat(batches) if isinstance(batches, list) else batches
    if isinstance(data, (pl.Series, pd.Series)) and not data.name:
        if not series_name:
            raise GatewayRuntimeError(
                GatewayRuntimeErrorType.GATEWAY_RAISED_EXCEPTION,
                "The gateway fields self.target_column_name and/or self.row_id_column_name must be set in order to "
                "use scalar data_batches or unnamed Pandas/Polars series")
        data = data.rename(series_name)
    if isinstance(data, pl.Series):
        return pl.DataFrame(data)
    if isinstance(data, pd.Series):
        return pd.DataFrame(data)
    if isinstance(data, (pl.DataFrame, pd.DataFrame)):
        return data
    raise GatewayRuntimeError(GatewayRuntimeErrorType.INVALID_SUBMISSION,
                              f"Invalid data_batches type {type(data)}; expected a list, DataFrame, or Series")


class BaseGateway:
    """Sends each data batch to the notebook's `predict`, checks every answer, and writes the submission at the end.

    Subclasses provide `unpack_data_paths`, `generate_data_batches` (yielding `(data_batch, row_ids)`; each element
    of data_batch is one positional argument of predict) and `competition_specific_validation`.
    """

    def __init__(self, data_paths: Sequence[str] | None = None, file_share_dir: str | None = None,
                 target_column_name: str | None = None, row_id_column_name: str | None = None,
                 ports: Sequence[int] = GRPC_PORTS) -> None:
        self.client = Client(RERUN_HOST if IS_RERUN else "localhost", ports)
        self.server: grpc.Server | None = None  # a gateway may serve endpoints too; none here does
        self.data_paths = data_paths
        self.file_share_dir = file_share_dir
        self.target_column_name = target_column_name
        self.row_id_column_name = row_id_column_name
        self.data_batch_counter: int | None = None
        self.timeout_seconds: float | None = None

    # ------------------------------------------------------------------------------------------------- settings

    def set_response_timeout_seconds(self, timeout_seconds: float) -> None:
        """The per-call deadline (on the first call too only when the client is not exempting it)."""
        self.timeout_seconds = timeout_seconds
        self.client.endpoint_deadline_seconds = timeout_seconds

    def set_startup_limit_seconds(self, seconds: float) -> None:
        """How long the first call waits for the server (Kaggle: 900 s); rehearsals scale it down."""
        self.client.startup_limit_seconds = seconds

    def map_host(self, name: str, address: str) -> None:
        """Dial host `name` at `address`: how a rehearsal without container networking reaches `inference_server`."""
        self.client.host_aliases[name] = address

    # ------------------------------------------------------------------------------------------------- the loop

    def unpack_data_paths(self) -> None:
        raise NotImplementedError

    def generate_data_batches(self) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError

    def competition_specific_validation(self, prediction_batch: Any, row_ids: Any, data_batch: Any) -> None:
        raise NotImplementedError

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Send one batch to the notebook's `predict` and return its answer; failures become GatewayRuntimeErrors."""
        try:
            return self.client.send("predict", *args, **kwargs)
        except Exception as err:
            self.handle_server_error(err, "predict")

    def get_all_predictions(self) -> tuple[list[Any], list[Any]]:
        """Every batch's predictions and row ids, each batch checked as soon as it is answered."""
        predictions, row_ids = [], []
        self.data_batch_counter = 0
        for data_batch, batch_row_ids in self.generate_data_batches():
            batch_predictions = self.predict(*data_batch)
            self.competition_agnostic_validation(batch_predictions, batch_row_ids)
            self.competition_specific_validation(batch_predictions, batch_row_ids, data_batch)
            predictions.append(batch_predictions)
            row_ids.append(batch_row_ids)
            self.data_batch_counter += 1
        return predictions, row_ids

    def run(self) -> None:
        """The whole run; on a rerun the outcome goes to result.json, otherwise an error is raised."""
        error = None
        try:
            self.unpack_data_paths()
            predictions, row_ids = self.get_all_predictions()
            self.write_submission(predictions, row_ids)  # only now: one bad batch loses everything before it
        except GatewayRuntimeError as gre:
            error = gre
        except Exception:
            error = GatewayRuntimeError(GatewayRuntimeErrorType.GATEWAY_RAISED_EXCEPTION,
                                        "".join(traceback.format_exception(*sys.exc_info())))
        self.client.close()
        if self.server is not None:
            self.server.stop(0)
        if IS_RERUN:
            self.write_result(error)
        elif error is not None:
            raise error

    # ------------------------------------------------------------------------------------------------- checks

    def competition_agnostic_validation(self, prediction_batch: Any, row_ids: Any) -> None:
        """Every call must answer exactly one prediction per row id; never skipped, or a notebook could hold its
        answers back until the last batch."""
        received = _row_count(prediction_batch)
        expected = _expected_rows(row_ids)
        if expected == 0:
            raise GatewayRuntimeError(GatewayRuntimeErrorType.GATEWAY_RAISED_EXCEPTION, "Missing row IDs for batch")
        if received != expected:
            raise GatewayRuntimeError(GatewayRuntimeErrorType.INVALID_SUBMISSION,
                                      f"Invalid predictions: expected {expected} rows but received {received}")

    # ------------------------------------------------------------------------------------------------- outputs

    def write_submission(self, predictions: Any, row_ids: Any) -> None:
        """submission.parquet in the working directory: the row-id columns first, overwriting any of that name."""
        submission = to_frame(predictions, self.target_column_name)
        ids = to_frame(row_ids, self.row_id_column_name)
        order = list(ids.columns) + [col for col in submission.columns if col not in ids.columns]
        if isinstance(submission, pd.DataFrame):
            submission.loc[:, list(ids.columns)] = ids
            submission[order].to_parquet(SUBMISSION_FILE, index=False)
        else:
            submission.with_columns(ids).select(order).write_parquet(SUBMISSION_FILE)

    def write_result(self, error: GatewayRuntimeError | None = None) -> None:
        """result.json in the working directory: success, or the error's type, name and (cut) details."""
        result: dict[str, Any] = {"Succeeded": error is None}
        if error is not None:
            result["ErrorType"] = error.error_type.value
            result["ErrorName"] = error.error_type.name
            result["ErrorDetails"] = str(error.error_details[:MAX_ERROR_DETAILS]) if error.error_details else None
        with open(RESULT_FILE, "w") as handle:
            json.dump(result, handle)

    def handle_server_error(self, exception: Exception, endpoint: str) -> None:
        """Classify a failed call by the same message substrings as Kaggle, and raise the GatewayRuntimeError."""
        text = str(exception)
        if isinstance(exception, (gaierror, RuntimeError)) and "Failed to connect to server after waiting" in text:
            raise GatewayRuntimeError(GatewayRuntimeErrorType.SERVER_NEVER_STARTED) from None
        if f"No listener for {endpoint} was registered" in text:
            raise GatewayRuntimeError(GatewayRuntimeErrorType.SERVER_MISSING_ENDPOINT,
                                      f"Server did not register a listener for {endpoint}") from None
        if "Exception calling application" in text:
            match = re.search('"Exception calling application: (.*)"', text, re.IGNORECASE)
            raise GatewayRuntimeError(GatewayRuntimeErrorType.SERVER_RAISED_EXCEPTION,
                                      match.group(1) if match else text) from None
        if isinstance(exception, grpc.RpcError):
            raise GatewayRuntimeError(GatewayRuntimeErrorType.SERVER_CONNECTION_FAILED, text) from None
        if isinstance(exception, GRPCDeadlineError):
            raise GatewayRuntimeError(GatewayRuntimeErrorType.GRPC_DEADLINE_EXCEEDED, text) from None
        raise exception
