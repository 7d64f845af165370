"""kaggle_evaluation's wire, relay and gateway rules, in process over real gRPC on loopback.

The end-to-end rerun (a notebook and a separate gateway process) is in test_wire_rerun.py.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time

import numpy as np
import pandas as pd
import polars as pl
import pytest
from wire_helpers import free_port

from kit.mechanisms.inference_server.kaggle_evaluation.core import base_gateway as bg
from kit.mechanisms.inference_server.kaggle_evaluation.core import payload, relay, wire

# ------------------------------------------------------------------------------------------------ fixtures


def predict(*args, **kwargs):
    """Echo: one positional argument comes back as itself, anything else as [args, kwargs]."""
    return args[0] if len(args) == 1 and not kwargs else [list(args), kwargs]


@pytest.fixture(scope="module")
def echo():
    """A started server answering `predict` with its argument, and a connected client."""
    port = free_port()
    server = relay.define_server(predict, ports=(port,))
    server.start()
    client = relay.Client("localhost", (port,))
    yield client
    client.close()
    server.stop(0)


def serve(*functions, ports=None):
    ports = ports or (free_port(),)
    server = relay.define_server(*functions, ports=ports)
    server.start()
    return server, relay.Client("localhost", ports)


# ------------------------------------------------------------------------------------------------ payloads


def _same_pandas(sent, got):
    assert isinstance(got, pd.DataFrame) and list(got.index) == list(range(len(sent)))  # the index is dropped
    assert got.to_dict("list") == sent.to_dict("list")


ROUND_TRIPS = {
    "str": ("text ✓", lambda got: got == "text ✓"),
    "bool": (True, lambda got: got is True),
    "int": (-(2**62), lambda got: type(got) is int and got == -(2**62)),
    # Python floats travel as 32-bit proto floats: the rounding is visible on the other side
    "float": (0.1, lambda got: got == float(np.float32(0.1)) and got != 0.1),
    "none": (None, lambda got: got is None),
    "list": ([1, "a", None], lambda got: got == [1, "a", None]),
    "tuple": ((1, 2.5), lambda got: type(got) is tuple and got == (1, 2.5)),
    "dict": ({"a": {"b": [1, True]}}, lambda got: got == {"a": {"b": [1, True]}}),
    "pandas_frame": (pd.DataFrame({"x": [1, 2], "y": ["p", "q"]}, index=[10, 11]), None),
    "pandas_series": (pd.Series([1.5, 2.5], name="answer", index=[7, 8]),
                      lambda got: isinstance(got, pd.Series) and got.name == "answer" and list(got) == [1.5, 2.5]
                      and list(got.index) == [0, 1]),
    "polars_frame": (pl.DataFrame({"id": ["a", None], "v": [1.25, 2.0], "n": [1, 2]}),
                     lambda got: got.equals(pl.DataFrame({"id": ["a", None], "v": [1.25, 2.0], "n": [1, 2]}))),
    "polars_series": (pl.Series("id", ["a", "b"]), lambda got: got.equals(pl.Series("id", ["a", "b"]))),
    "numpy_array": (np.arange(6, dtype=np.int16).reshape(2, 3),
                    lambda got: got.dtype == np.int16 and got.shape == (2, 3) and got.tolist() == [[0, 1, 2],
                                                                                                   [3, 4, 5]]),
    # numpy scalars go through np.save: float64 keeps all its bits
    "numpy_float64": (np.float64(0.1), lambda got: type(got) is np.float64 and got == 0.1),
    "numpy_int32": (np.int32(-7), lambda got: type(got) is np.int32 and got == -7),
    "numpy_bool": (np.bool_(True), lambda got: type(got) is np.bool_ and bool(got)),
    "bytes_io": (io.BytesIO(b"\x00\x01raw"), lambda got: isinstance(got, io.BytesIO) and got.getvalue() ==
                 b"\x00\x01raw"),
}


@pytest.mark.parametrize("case", sorted(ROUND_TRIPS))
def test_every_payload_type_survives_a_grpc_round_trip(echo, case):
    sent, check = ROUND_TRIPS[case]
    got = echo.send("predict", sent)  # encoded, sent, decoded by the server, and back the same way
    if case == "pandas_frame":
        _same_pandas(sent, got)
    else:
        assert check(got), repr(got)


def test_positional_and_keyword_arguments_arrive_as_sent(echo):
    assert echo.send("predict", 1, "two", three=3.5, four=None) == [[1, "two"], {"three": 3.5, "four": None}]


@pytest.mark.parametrize(("value", "message"), [
    ({1, 2}, "Type <class 'set'> not supported for KaggleEvaluation."),
    (object(), "Type <class 'object'> not supported for KaggleEvaluation."),
    (b"raw", "Type <class 'bytes'> not supported for KaggleEvaluation."),
    ({1: "x"}, "KaggleEvaluation only supports dicts with keys of type str, found <class 'int'>."),
    (np.str_("x"), "Type <class 'numpy.str_'> not supported for KaggleEvaluation."),
    (pl.DataFrame({"o": pl.Series([object()], dtype=pl.Object)}), "Unsupported Polars data type"),
    (pl.DataFrame({"e": pl.Series(["a"], dtype=pl.Enum(["a", "b"]))}), "Unsupported Polars data type"),
    ([1, {2}], "Type <class 'set'> not supported"),  # nested values are checked too
])
def test_types_outside_the_contract_are_refused(value, message):
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        payload.encode(value)


def test_nothing_is_pickled_an_object_array_is_refused():
    with pytest.raises(ValueError, match="allow_pickle=False"):
        payload.encode(np.array([object()], dtype=object))


def test_a_return_value_outside_the_contract_fails_the_call_with_the_server_s_message():
    def predict(x):
        return {x}

    server, client = serve(predict)
    try:
        with pytest.raises(relay.grpc.RpcError) as caught:
            client.send("predict", 1)
        assert caught.value.details() == (
            "Exception calling application: Type <class 'set'> not supported for KaggleEvaluation.")
    finally:
        client.close()
        server.stop(0)


# ------------------------------------------------------------------------------------------------ wire bytes

# Field numbers and wire types of Kaggle's Payload, written here independently of wire.py's table:
# wire type 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
PAYLOAD_FIELDS = {
    "str_value": (1, 2, "s"), "bool_value": (2, 0, True), "int_value": (3, 0, 5), "float_value": (4, 5, 1.0),
    "none_value": (5, 0, True), "pandas_dataframe_value": (9, 2, b"x"), "polars_dataframe_value": (10, 2, b"x"),
    "pandas_series_value": (11, 2, b"x"), "polars_series_value": (12, 2, b"x"), "numpy_array_value": (13, 2, b"x"),
    "numpy_scalar_value": (14, 2, b"x"), "bytes_io_value": (15, 2, b"x"),
}


@pytest.mark.parametrize("field", sorted(PAYLOAD_FIELDS))
def test_each_payload_case_has_kaggle_s_field_number_and_wire_type(field):
    number, wire_type, value = PAYLOAD_FIELDS[field]
    encoded = wire.Payload(**{field: value}).SerializeToString()
    assert encoded[0] == (number << 3) | wire_type  # numbers below 16 fit the first byte


def test_float_is_32_bit_and_int_is_zigzag_sint64():
    assert wire.Payload(float_value=0.1).SerializeToString() == b"\x25" + np.float32(0.1).tobytes()
    assert wire.Payload(int_value=-1).SerializeToString() == b"\x18\x01"  # zigzag: -1 -> 1
    assert wire.Payload(int_value=1).SerializeToString() == b"\x18\x02"


def test_nested_messages_and_maps_decode_from_hand_written_bytes():
    # KaggleEvaluationRequest{name="predict" (1), args=[Payload{list_value(6)=PayloadList{payloads(1)=[{int 1}]}}],
    # kwargs={"k": Payload{dict_value(8)=PayloadMap{payload_map(1)={"m": {bool true}}}}}}
    int_one = b"\x18\x02"
    arg = b"\x32" + bytes([len(b"\x0a\x02" + int_one)]) + b"\x0a\x02" + int_one
    inner_entry = b"\x0a\x01m\x12\x02\x10\x01"
    kw_value = b"\x42" + bytes([len(inner_entry) + 2]) + b"\x0a" + bytes([len(inner_entry)]) + inner_entry
    kw_entry = b"\x0a\x01k\x12" + bytes([len(kw_value)]) + kw_value
    raw = b"\x0a\x07predict" + b"\x12" + bytes([len(arg)]) + arg + b"\x1a" + bytes([len(kw_entry)]) + kw_entry
    request = wire.KaggleEvaluationRequest.FromString(raw)
    assert request.name == "predict"
    assert [payload.decode(a) for a in request.args] == [[1]]
    assert {k: payload.decode(v) for k, v in request.kwargs.items()} == {"k": {"m": True}}
    assert request.SerializeToString() == raw


def test_names_are_kaggle_s():
    assert wire.METHOD_PATH == "/kaggle_evaluation_client.KaggleEvaluationService/Send"
    assert wire.Payload.DESCRIPTOR.full_name == "kaggle_evaluation_client.Payload"
    assert [o.name for o in wire.Payload.DESCRIPTOR.oneofs] == ["value"]
    assert len(wire.Payload.DESCRIPTOR.oneofs[0].fields) == 15
    assert wire.KaggleEvaluationResponse.DESCRIPTOR.fields_by_name["payload"].number == 1
    assert wire.PayloadList.DESCRIPTOR.fields_by_name["payloads"].number == 1
    assert wire.PayloadMap.DESCRIPTOR.fields_by_name["payload_map"].message_type.GetOptions().map_entry


# ------------------------------------------------------------------------------------------------ dispatch


def test_calls_run_one_at_a_time_on_a_worker_thread():
    seen, active, peak = [], [0], [0]
    lock = threading.Lock()

    def predict(i):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        seen.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return i

    server, client = serve(predict)
    try:
        threads = [threading.Thread(target=client.send, args=("predict", i)) for i in range(3)]
        client.send("predict", -1)  # connect first, so the three race on one channel
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        client.close()
        server.stop(0)
    assert seen == [False] * 4 and peak[0] == 1


def test_dispatch_is_by_the_function_s_name():
    def solve(x):
        return x

    server, client = serve(solve)
    try:
        with pytest.raises(relay.grpc.RpcError) as caught:
            client.send("predict", 1)
        assert caught.value.details() == "Exception calling application: No listener for predict was registered."
        assert client.send("solve", 2) == 2
    finally:
        client.close()
        server.stop(0)


class _Model:
    def predict(self, x):
        return x

    def __call__(self, x):
        return x


@pytest.mark.parametrize(("listeners", "message"), [
    ((), "Must pass at least one endpoint listener"),
    ((lambda x: x,), "must be named"),
    ((_Model().predict,), "must be functions, got <class 'method'>"),
    ((_Model(),), "must be functions"),
])
def test_only_named_plain_functions_can_be_served(listeners, message):
    with pytest.raises(ValueError, match=message):
        relay.define_server(*listeners, ports=(free_port(),))


# ---------------------------------------------------------------------------------- ports, startup, deadlines


def test_the_server_takes_the_first_free_port_and_the_client_falls_back_to_it():
    taken, free = free_port(), free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("localhost", taken))  # bound, not listening: connections to it are refused
        assert relay.available_port((taken, free)) == free
        server, client = serve(predict, ports=(taken, free))
        try:
            assert client.send("predict", "x") == "x"
        finally:
            client.close()
            server.stop(0)
    with pytest.raises(ValueError, match="None of the expected ports"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.bind(("localhost", taken))
            relay.available_port((taken,))


def test_port_lists_of_both_versions():
    assert relay.GRPC_PORTS == (50051, 60053, 60054, 60055, 60056, 60057, 60058, 60059, 60060, 60061, 60062)
    assert relay.GRPC_PORTS_V03 == (50051,)


def test_the_first_call_gives_up_after_the_startup_limit():
    client = relay.Client("localhost", (free_port(),))
    client.startup_limit_seconds = 0.5
    started = time.time()
    with pytest.raises(RuntimeError, match="Failed to connect to server after waiting 0.5 seconds"):
        client.send("predict", 1)
    assert 0.5 <= time.time() - started < 5


def test_a_host_name_that_stops_resolving_ends_the_wait_at_once():
    name = "inference_server"
    try:
        socket.gethostbyname(name)
        pytest.skip(f"{name} resolves on this machine")
    except socket.gaierror:
        pass
    client = relay.Client(name, (free_port(),))
    started = time.time()
    with pytest.raises(socket.gaierror):
        client.send("predict", 1)
    assert time.time() - started < client.startup_limit_seconds / 100


def test_a_host_alias_dials_the_name_at_another_address():
    port = free_port()
    server = relay.define_server(predict, ports=(port,))
    server.start()
    client = relay.Client("inference_server", (port,))
    client.host_aliases["inference_server"] = "127.0.0.1"
    try:
        assert client.send("predict", "via alias") == "via alias"
    finally:
        client.close()
        server.stop(0)


def _sleepy_server(first: float, later: float):
    calls = []

    def predict(x):
        calls.append(x)
        time.sleep(first if len(calls) == 1 else later)
        return x

    return serve(predict)


def test_the_deadline_applies_after_the_first_successful_call():
    server, client = _sleepy_server(first=0.6, later=2)
    client.endpoint_deadline_seconds = 0.3
    try:
        assert client.send("predict", 1) == 1  # 0.6 s, past the deadline, but the first call is exempt
        with pytest.raises(relay.GRPCDeadlineError):
            client.send("predict", 2)
    finally:
        client.close()
        server.stop(0)


def test_without_the_exemption_the_first_call_has_the_deadline_too():
    server, client = _sleepy_server(first=1, later=1)
    client.endpoint_deadline_seconds = 0.3
    client.first_call_deadline_exempt = False
    try:
        with pytest.raises(relay.GRPCDeadlineError):
            client.send("predict", 1)
    finally:
        client.close()
        server.stop(0)


# ------------------------------------------------------------------------------------------------ gateway rules


def _error_of(call) -> bg.GatewayRuntimeError:
    with pytest.raises(bg.GatewayRuntimeError) as caught:
        call()
    return caught.value


def test_error_types_are_kaggle_s():
    assert {t.name: t.value for t in bg.GatewayRuntimeErrorType} == {
        "UNSPECIFIED": 0, "SERVER_NEVER_STARTED": 1, "SERVER_CONNECTION_FAILED": 2, "SERVER_RAISED_EXCEPTION": 3,
        "SERVER_MISSING_ENDPOINT": 4, "GATEWAY_RAISED_EXCEPTION": 5, "INVALID_SUBMISSION": 6,
        "GRPC_DEADLINE_EXCEEDED": 7}


def test_server_errors_are_classified_by_their_messages():
    def predict(x):
        if x == "boom":
            raise KeyError("no such problem")
        return x

    gateway = bg.BaseGateway()
    server, client = serve(predict)
    gateway.client = client
    try:
        assert gateway.predict("ok") == "ok"  # a first call that succeeds: later calls no longer wait for startup
        raised = _error_of(lambda: gateway.predict("boom"))
        assert (raised.error_type.name, raised.error_details) == ("SERVER_RAISED_EXCEPTION", "'no such problem'")
        server.stop(0)
        dropped = _error_of(lambda: gateway.predict(1))  # connected before, gone now
        assert dropped.error_type.name == "SERVER_CONNECTION_FAILED"
    finally:
        client.close()
        server.stop(0)
    never = _error_of(lambda: gateway.handle_server_error(RuntimeError(
        "Failed to connect to server after waiting 900 seconds"), "predict"))
    assert (never.error_type.name, never.error_details) == ("SERVER_NEVER_STARTED", None)
    late = _error_of(lambda: gateway.handle_server_error(relay.GRPCDeadlineError("slow"), "predict"))
    assert late.error_type.name == "GRPC_DEADLINE_EXCEEDED"
    with pytest.raises(socket.gaierror):  # in 0.9 a vanished host is left to the gateway's catch-all
        gateway.handle_server_error(socket.gaierror("gone"), "predict")


@pytest.mark.parametrize(("prediction", "row_ids", "expected"), [
    (None, "a", "No prediction received"),
    (np.float32(1.0), "a", "Invalid prediction data type, received: <class 'numpy.float32'>"),
    ([1], "a", "Invalid prediction data type, received: <class 'list'>"),
    (pl.DataFrame({"id": ["a", "a"]}), pl.DataFrame({"id": ["a"]}), "expected 1 rows but received 2"),
    (pd.Series([1, 2, 3]), pl.DataFrame({"id": ["a", "b"]}), "expected 2 rows but received 3"),
])
def test_each_call_must_answer_one_row_per_row_id(prediction, row_ids, expected):
    error = _error_of(lambda: bg.BaseGateway().competition_agnostic_validation(prediction, row_ids))
    assert error.error_type.name == "INVALID_SUBMISSION" and expected in error.error_details


@pytest.mark.parametrize("prediction", [7, 2.5, "x", True, np.int64(3), pl.Series([1]), pd.DataFrame({"a": [1]})])
def test_primitives_count_as_one_row(prediction):
    bg.BaseGateway().competition_agnostic_validation(prediction, pl.DataFrame({"id": ["a"]}))


def test_the_submission_puts_row_ids_first_and_relaxes_types(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gateway = bg.BaseGateway()
    predictions = [pl.DataFrame({"answer": pl.Series([1], dtype=pl.Int32), "id": ["stale"]}),
                   pl.DataFrame({"answer": pl.Series([2**40], dtype=pl.Int64), "id": ["stale"]})]
    gateway.write_submission(predictions, [pl.DataFrame({"id": ["a"]}), pl.DataFrame({"id": ["b"]})])
    written = pl.read_parquet("submission.parquet")
    assert written.columns == ["id", "answer"] and written.rows() == [("a", 1), ("b", 2**40)]
    assert written.schema["answer"] == pl.Int64


def test_pandas_predictions_get_the_row_ids_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bg.BaseGateway().write_submission([pd.DataFrame({"answer": [3]}, index=[9]), pd.DataFrame({"answer": [4]})],
                                      [pl.DataFrame({"id": ["a"]}), pl.DataFrame({"id": ["b"]})])
    assert pd.read_parquet("submission.parquet").to_dict("list") == {"id": ["a", "b"], "answer": [3, 4]}


def test_scalars_need_a_target_column_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    row_ids = [pl.DataFrame({"id": ["a"]}), pl.DataFrame({"id": ["b"]})]
    error = _error_of(lambda: bg.BaseGateway().write_submission([1, 2], row_ids))
    assert error.error_type.name == "GATEWAY_RAISED_EXCEPTION" and "target_column_name" in error.error_details
    assert not (tmp_path / "submission.parquet").exists()
    bg.BaseGateway(target_column_name="answer").write_submission([1, 2], row_ids)
    assert pl.read_parquet("submission.parquet").rows() == [("a", 1), ("b", 2)]


def test_inconsistent_prediction_columns_are_an_invalid_submission(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    row_ids = [pl.DataFrame({"id": ["a"]}), pl.DataFrame({"id": ["b"]})]
    error = _error_of(lambda: bg.BaseGateway().write_submission(
        [pl.DataFrame({"answer": [1]}), pl.DataFrame({"answer": [1], "extra": [2]})], row_ids))
    assert error.error_type.name == "INVALID_SUBMISSION"


def test_result_json_has_kaggle_s_keys_and_cuts_details(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gateway = bg.BaseGateway()
    gateway.write_result(None)
    assert json.loads((tmp_path / "result.json").read_text()) == {"Succeeded": True}
    gateway.write_result(bg.GatewayRuntimeError(bg.GatewayRuntimeErrorType.INVALID_SUBMISSION, "x" * 9000))
    result = json.loads((tmp_path / "result.json").read_text())
    assert result == {"Succeeded": False, "ErrorType": 6, "ErrorName": "INVALID_SUBMISSION", "ErrorDetails": "x" * 8000}


def test_the_gateway_dials_localhost_off_a_rerun():
    assert not bg.IS_RERUN  # the test environment is not a rerun
    assert bg.BaseGateway().client.channel_address == "localhost"
