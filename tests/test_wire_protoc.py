"""The kit's wire against stubs that protoc compiles from the contract's .proto, as Kaggle's package is built.

The .proto below states the contract (the names, numbers and types of research/inference_server.md section 2);
protoc (grpcio-tools) compiles it, and the kit's descriptor-built messages must describe the same file and talk
to the compiled stubs in both directions.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from google.protobuf import descriptor_pb2
from wire_helpers import free_port

from kit.mechanisms.inference_server.kaggle_evaluation.core import relay, wire

protoc = pytest.importorskip("grpc_tools.protoc")

CONTRACT = """\
syntax = "proto3";
package kaggle_evaluation_client;

service KaggleEvaluationService {
  rpc Send(KaggleEvaluationRequest) returns (KaggleEvaluationResponse);
}
message KaggleEvaluationRequest {
  string name = 1;
  repeated Payload args = 2;
  map<string, Payload> kwargs = 3;
}
message KaggleEvaluationResponse {
  Payload payload = 1;
}
message Payload {
  oneof value {
    string str_value = 1;
    bool bool_value = 2;
    sint64 int_value = 3;
    float float_value = 4;
    bool none_value = 5;
    PayloadList list_value = 6;
    PayloadList tuple_value = 7;
    PayloadMap dict_value = 8;
    bytes pandas_dataframe_value = 9;
    bytes polars_dataframe_value = 10;
    bytes pandas_series_value = 11;
    bytes polars_series_value = 12;
    bytes numpy_array_value = 13;
    bytes numpy_scalar_value = 14;
    bytes bytes_io_value = 15;
  }
}
message PayloadList {
  repeated Payload payloads = 1;
}
message PayloadMap {
  map<string, Payload> payload_map = 1;
}
"""

# Runs with the compiled stubs on sys.path: serves one endpoint on argv[1] and calls the kit's server on argv[2].
STUB_SIDE = textwrap.dedent("""\
    import sys
    from concurrent import futures
    import grpc
    import kaggle_evaluation_pb2 as pb
    import kaggle_evaluation_pb2_grpc as pb_grpc

    class Servicer(pb_grpc.KaggleEvaluationServiceServicer):
        def Send(self, request, context):
            items = [pb.Payload(str_value=request.name), pb.Payload(int_value=len(request.args)),
                     pb.Payload(dict_value=pb.PayloadMap(payload_map={'k': request.kwargs['k']}))]
            return pb.KaggleEvaluationResponse(payload=pb.Payload(tuple_value=pb.PayloadList(payloads=items)))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    pb_grpc.add_KaggleEvaluationServiceServicer_to_server(Servicer(), server)
    server.add_insecure_port(f'[::]:{sys.argv[1]}')
    server.start()
    channel = grpc.insecure_channel(f'localhost:{sys.argv[2]}')
    grpc.channel_ready_future(channel).result(timeout=60)
    answer = pb_grpc.KaggleEvaluationServiceStub(channel).Send(pb.KaggleEvaluationRequest(
        name='predict', args=[pb.Payload(str_value='ab'), pb.Payload(int_value=-21)],
        kwargs={'scale': pb.Payload(float_value=0.5)}))
    first, second = answer.payload.list_value.payloads
    print(first.WhichOneof('value'), first.str_value, second.WhichOneof('value'), second.float_value, flush=True)
    sys.stdin.read()  # keep serving until the test closes stdin
    """)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """protoc's outputs for CONTRACT: the descriptor set and the Python stubs, in one folder."""
    out = tmp_path_factory.mktemp("protoc")
    (out / "kaggle_evaluation.proto").write_text(CONTRACT, encoding="utf-8")
    assert protoc.main(["protoc", f"-I{out}", f"--python_out={out}", f"--grpc_python_out={out}",
                        f"--descriptor_set_out={out / 'set.pb'}", str(out / "kaggle_evaluation.proto")]) == 0
    return out


def _comparable(proto: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    """A copy without json_name, which protoc fills in and the kit leaves to the runtime's default."""
    copy = descriptor_pb2.FileDescriptorProto.FromString(proto.SerializeToString())
    stack = list(copy.message_type)
    while stack:
        message = stack.pop()
        for field in message.field:
            field.ClearField("json_name")
        stack.extend(message.nested_type)
    return copy


def test_the_kit_describes_the_file_protoc_compiles(compiled):
    compiled_set = descriptor_pb2.FileDescriptorSet.FromString((compiled / "set.pb").read_bytes())
    assert _comparable(compiled_set.file[0]) == _comparable(wire.file_descriptor())


def test_compiled_stubs_and_the_kit_talk_both_ways(compiled):
    def predict(text, number, scale):
        return [text.upper(), number * scale]

    kit_port, stub_port = free_port(), free_port()
    server = relay.define_server(predict, ports=(kit_port,))
    server.start()
    stub_side = subprocess.Popen([sys.executable, "-c", STUB_SIDE, str(stub_port), str(kit_port)], cwd=compiled,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        # the stub client's call reached the kit's predict, and its answer came back as the stubs expect
        assert stub_side.stdout.readline().split() == ["str_value", "AB", "float_value", "-10.5"]
        client = relay.Client("localhost", (stub_port,))
        assert client.send("predict", 1, 2, k={"nested": None}) == ("predict", 2, {"k": {"nested": None}})
        client.close()
    finally:
        stub_side.stdin.close()
        stub_side.wait(timeout=30)
        server.stop(0)
