"""The wire contract: Kaggle's `kaggle_evaluation_client` proto, built at import through protobuf's public API.

No protoc output is shipped: the file descriptor below states the contract's names, field numbers and types, and
protobuf encodes by number and type alone, so these messages interoperate with a stub that protoc compiled from
Kaggle's .proto. A private descriptor pool keeps this file from clashing with Kaggle's generated module (same proto
file name) or with a second copy of this package loaded in the same process.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO_FILE = "kaggle_evaluation.proto"
PROTO_PACKAGE = "kaggle_evaluation_client"
SERVICE = f"{PROTO_PACKAGE}.KaggleEvaluationService"
METHOD = "Send"
METHOD_PATH = f"/{SERVICE}/{METHOD}"

_F = descriptor_pb2.FieldDescriptorProto
_PAYLOAD = f".{PROTO_PACKAGE}.Payload"
_PAYLOAD_LIST = f".{PROTO_PACKAGE}.PayloadList"

# The oneof `value` of Payload, in field-number order: (name, number, type, message type or None).
PAYLOAD_CASES: tuple[tuple[str, int, int, str | None], ...] = (
    ("str_value", 1, _F.TYPE_STRING, None),
    ("bool_value", 2, _F.TYPE_BOOL, None),
    ("int_value", 3, _F.TYPE_SINT64, None),
    ("float_value", 4, _F.TYPE_FLOAT, None),  # 32-bit: Python floats lose precision on this wire
    ("none_value", 5, _F.TYPE_BOOL, None),  # its value is ignored; being set means None
    ("list_value", 6, _F.TYPE_MESSAGE, _PAYLOAD_LIST),
    ("tuple_value", 7, _F.TYPE_MESSAGE, _PAYLOAD_LIST),
    ("dict_value", 8, _F.TYPE_MESSAGE, f".{PROTO_PACKAGE}.PayloadMap"),
    ("pandas_dataframe_value", 9, _F.TYPE_BYTES, None),
    ("polars_dataframe_value", 10, _F.TYPE_BYTES, None),
    ("pandas_series_value", 11, _F.TYPE_BYTES, None),
    ("polars_series_value", 12, _F.TYPE_BYTES, None),
    ("numpy_array_value", 13, _F.TYPE_BYTES, None),
    ("numpy_scalar_value", 14, _F.TYPE_BYTES, None),
    ("bytes_io_value", 15, _F.TYPE_BYTES, None),
)


def _field(name: str, number: int, kind: int, type_name: str | None = None, *, repeated: bool = False,
           oneof_index: int | None = None) -> descriptor_pb2.FieldDescriptorProto:
    """One field descriptor; `type_name` names the message type of a message field."""
    field = _F(name=name, number=number, type=kind, label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
    if type_name:
        field.type_name = type_name
    if oneof_index is not None:
        field.oneof_index = oneof_index
    return field


def _map_entry(entry_name: str) -> descriptor_pb2.DescriptorProto:
    """The nested entry type protoc writes for a `map<string, Payload>` field."""
    entry = descriptor_pb2.DescriptorProto(name=entry_name)
    entry.field.extend([_field("key", 1, _F.TYPE_STRING), _field("value", 2, _F.TYPE_MESSAGE, _PAYLOAD)])
    entry.options.map_entry = True
    return entry


def file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The whole contract as one FileDescriptorProto (what protoc would build from Kaggle's .proto)."""
    proto = descriptor_pb2.FileDescriptorProto(name=PROTO_FILE, package=PROTO_PACKAGE, syntax="proto3")

    request = proto.message_type.add(name="KaggleEvaluationRequest")
    request.field.extend([
        _field("name", 1, _F.TYPE_STRING),
        _field("args", 2, _F.TYPE_MESSAGE, _PAYLOAD, repeated=True),
        _field("kwargs", 3, _F.TYPE_MESSAGE, f".{PROTO_PACKAGE}.KaggleEvaluationRequest.KwargsEntry", repeated=True),
    ])
    request.nested_type.append(_map_entry("KwargsEntry"))

    response = proto.message_type.add(name="KaggleEvaluationResponse")
    response.field.append(_field("payload", 1, _F.TYPE_MESSAGE, _PAYLOAD))

    payload = proto.message_type.add(name="Payload")
    payload.oneof_decl.add(name="value")
    payload.field.extend(_field(*case, oneof_index=0) for case in PAYLOAD_CASES)

    payload_list = proto.message_type.add(name="PayloadList")
    payload_list.field.append(_field("payloads", 1, _F.TYPE_MESSAGE, _PAYLOAD, repeated=True))

    payload_map = proto.message_type.add(name="PayloadMap")
    payload_map.field.append(_field("payload_map", 1, _F.TYPE_MESSAGE,
                                    f".{PROTO_PACKAGE}.PayloadMap.PayloadMapEntry", repeated=True))
    payload_map.nested_type.append(_map_entry("PayloadMapEntry"))

    service = proto.service.add(name="KaggleEvaluationService")
    service.method.add(name=METHOD, input_type=f".{PROTO_PACKAGE}.KaggleEvaluationRequest",
                       output_type=f".{PROTO_PACKAGE}.KaggleEvaluationResponse")
    return proto


def _message_classes() -> dict[str, type]:
    """Message classes for every top-level message of the contract, keyed by short name."""
    if not hasattr(message_factory, "GetMessageClass"):  # added in protobuf 4.21; older runtimes cannot build these
        raise ImportError("kaggle_evaluation needs protobuf >= 4.25 (message_factory.GetMessageClass is missing)")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_descriptor())
    names = ("KaggleEvaluationRequest", "KaggleEvaluationResponse", "Payload", "PayloadList", "PayloadMap")
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PROTO_PACKAGE}.{name}"))
            for name in names}


_CLASSES = _message_classes()
KaggleEvaluationRequest = _CLASSES["KaggleEvaluationRequest"]
KaggleEvaluationResponse = _CLASSES["KaggleEvaluationResponse"]
Payload = _CLASSES["Payload"]
PayloadList = _CLASSES["PayloadList"]
PayloadMap = _CLASSES["PayloadMap"]
