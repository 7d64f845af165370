"""Python values to and from the wire's `Payload` message, for the types Kaggle's protocol allows.

The order of checks is part of the contract: numpy scalars first (np.float64 is also a float, and must keep its 64
bits through np.save), bool before int (bool is an int). Tables travel as Parquet or Arrow IPC with lz4, arrays via
np.save with allow_pickle=False: nothing here ever unpickles, so a payload cannot run code on the receiving side.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.ipc

from .wire import Payload, PayloadList, PayloadMap

# Kaggle refuses these polars dtypes (Enum is marked unstable upstream; Object and Unknown have no Arrow form).
POLARS_DTYPE_DENYLIST = frozenset({pl.Enum, pl.Object, pl.Unknown})


def _npy_bytes(value: np.ndarray | np.generic) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    return buffer.getvalue()


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="lz4")  # the index is dropped, as on Kaggle
    return buffer.getvalue()


def _polars_parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="lz4", statistics=False)
    return buffer.getvalue()


def _arrow_ipc_bytes(frame: pl.DataFrame) -> bytes:
    refused = POLARS_DTYPE_DENYLIST.intersection(dtype.base_type() for dtype in frame.dtypes)
    if refused:
        raise TypeError(f"Unsupported Polars data type(s): {sorted(str(dtype) for dtype in refused)}")
    table = frame.to_arrow()
    buffer = io.BytesIO()
    options = pyarrow.ipc.IpcWriteOptions(compression="lz4")
    with pyarrow.ipc.new_stream(buffer, table.schema, options=options) as writer:
        writer.write_table(table)
    return buffer.getvalue()


def _encode_numpy_scalar(value: np.generic) -> Payload:
    # np.str_, np.bytes_, np.void and datetimes are scalars too, but the contract carries only numbers and bools.
    if not isinstance(value, (np.number, np.bool_)):
        raise TypeError(f"Type {type(value)} not supported for KaggleEvaluation.")
    return Payload(numpy_scalar_value=_npy_bytes(value))


def _encode_dict(value: dict) -> Payload:
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"KaggleEvaluation only supports dicts with keys of type str, found {type(key)}.")
    return Payload(dict_value=PayloadMap(payload_map={key: encode(item) for key, item in value.items()}))


# (type, encoder) in the order the contract checks them; the first isinstance match wins.
_ENCODERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], Payload]], ...] = (
    (np.generic, _encode_numpy_scalar),
    (str, lambda v: Payload(str_value=v)),
    (bool, lambda v: Payload(bool_value=v)),
    (int, lambda v: Payload(int_value=v)),
    (float, lambda v: Payload(float_value=v)),
    (type(None), lambda v: Payload(none_value=True)),
    (list, lambda v: Payload(list_value=PayloadList(payloads=[encode(item) for item in v]))),
    (tuple, lambda v: Payload(tuple_value=PayloadList(payloads=[encode(item) for item in v]))),
    (dict, _encode_dict),
    (pd.DataFrame, lambda v: Payload(pandas_dataframe_value=_parquet_bytes(v))),
    (pl.DataFrame, lambda v: Payload(polars_dataframe_value=_arrow_ipc_bytes(v))),
    (pd.Series, lambda v: Payload(pandas_series_value=_parquet_bytes(pd.DataFrame(v)))),
    (pl.Series, lambda v: Payload(polars_series_value=_polars_parquet_bytes(pl.DataFrame(v)))),
    (np.ndarray, lambda v: Payload(numpy_array_value=_npy_bytes(v))),
    (io.BytesIO, lambda v: Payload(bytes_io_value=v.getvalue())),
)


def encode(value: Any) -> Payload:
    """The Payload message for `value`; TypeError for a type the contract does not carry."""
    for kind, encoder in _ENCODERS:
        if isinstance(value, kind):
            return encoder(value)
    raise TypeError(f"Type {type(value)} not supported for KaggleEvaluation.")


def _decode_numpy_scalar(data: bytes) -> np.generic:
    array = np.load(io.BytesIO(data), allow_pickle=False)
    # np.load gives a 0-d array; the sender had a scalar, so give one back.
    return array.dtype.type(array)


def _decode_polars_frame(data: bytes) -> pl.DataFrame:
    with pyarrow.ipc.open_stream(pa.py_buffer(data)) as reader:
        return pl.from_arrow(reader.read_all())


def _decode_pandas_series(data: bytes) -> pd.Series:
    frame = pd.read_parquet(io.BytesIO(data))
    return frame[frame.columns[0]]


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "str_value": lambda v: v,
    "bool_value": lambda v: v,
    "int_value": lambda v: v,
    "float_value": lambda v: v,
    "none_value": lambda v: None,
    "list_value": lambda v: [decode(item) for item in v.payloads],
    "tuple_value": lambda v: tuple(decode(item) for item in v.payloads),
    "dict_value": lambda v: {key: decode(item) for key, item in v.payload_map.items()},
    "pandas_dataframe_value": lambda v: pd.read_parquet(io.BytesIO(v)),
    "polars_dataframe_value": _decode_polars_frame,
    "pandas_series_value": _decode_pandas_series,
    "polars_series_value": lambda v: pl.read_parquet(io.BytesIO(v)).to_series(0),
    "numpy_array_value": lambda v: np.load(io.BytesIO(v), allow_pickle=False),
    "numpy_scalar_value": _decode_numpy_scalar,
    "bytes_io_value": io.BytesIO,
}


def decode(payload: Payload) -> Any:
    """The Python value a Payload message carries; TypeError for an unset or unknown case."""
    case = payload.WhichOneof("value")
    if case not in _DECODERS:
        raise TypeError(f"Found unknown Payload case {case}")
    return _DECODERS[case](getattr(payload, case))
