"""The spec-driven gateway and write_package: batching, the gateway entry, the written package, lazy imports."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys

import polars as pl
import pytest
from wire_helpers import aimo3_spec

from kit.errors import InputError
from kit.mechanisms.inference_server import package
from kit.mechanisms.inference_server.kaggle_evaluation.core import base_gateway as bg
from kit.mechanisms.inference_server.kaggle_evaluation.core import relay
from kit.mechanisms.inference_server.kaggle_evaluation.core.spec import GatewaySpec
from kit.mechanisms.inference_server.kaggle_evaluation.core.spec_gateway import SpecGateway, main
from kit.mechanisms.inference_server.kaggle_evaluation.core.templates import InferenceServer

ALLOWED_THIRD_PARTY = {"grpc", "google", "numpy", "pandas", "polars", "pyarrow"}


def _gateway_class(spec: GatewaySpec) -> type[SpecGateway]:
    return type(spec.gateway_class, (SpecGateway,), {"spec": spec})


def _server_class(gateway_cls: type[SpecGateway]) -> type[InferenceServer]:
    class Server(InferenceServer):
        ports = gateway_cls.spec.ports

        def _get_gateway_for_test(self, data_paths=None, file_share_dir=None, *args, **kwargs):
            return gateway_cls(data_paths, file_share_dir, *args, **kwargs)

    return Server


@pytest.fixture
def test_csv(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text("id,problem,source\n" + "".join(f"r{i},p{i},s{i}\n" for i in range(5)), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ batching


def test_batches_carry_the_chosen_columns_and_the_row_ids(test_csv):
    gateway = _gateway_class(aimo3_spec(rows_per_call=2, predict_columns=("problem",)))([str(test_csv)],
                                                                                       use_private_set=True)
    gateway.unpack_data_paths()
    batches = list(gateway.generate_data_batches())
    assert [batch.columns for batch, _ in batches] == [["problem"]] * 3
    assert [ids["id"].to_list() for _, ids in batches] == [["r0", "r1"], ["r2", "r3"], ["r4"]]
    assert gateway.shuffle_seed is None  # the private set keeps the file's order


def test_by_default_every_column_goes_to_predict_and_rows_are_shuffled(test_csv):
    gateway = _gateway_class(aimo3_spec())([str(test_csv)])
    gateway.unpack_data_paths()
    batches = list(gateway.generate_data_batches())
    assert all(batch.columns == ["id", "problem", "source"] and batch.height == 1 for batch, _ in batches)
    assert sorted(ids.item() for _, ids in batches) == [f"r{i}" for i in range(5)]
    assert isinstance(gateway.shuffle_seed, int)
    reshuffled = pl.read_csv(test_csv).sample(fraction=1.0, shuffle=True, seed=gateway.shuffle_seed)
    assert [ids.item() for _, ids in batches] == reshuffled["id"].to_list()  # the seed recorded is the one used


def test_the_spec_sets_the_deadline_exemption_ports_and_default_path():
    spec = aimo3_spec(deadline_seconds=30, first_call_exempt=False)
    gateway = _gateway_class(spec)()
    assert gateway.client.endpoint_deadline_seconds == 30 and gateway.timeout_seconds == 30
    assert gateway.client.first_call_deadline_exempt is False and gateway.client.ports == spec.ports
    gateway.unpack_data_paths()
    assert gateway.test_path == "/kaggle/input/ai-mathematical-olympiad-progress-prize-3/test.csv"


def test_run_local_gateway_raises_the_classified_error_and_stops_the_server(test_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = aimo3_spec()

    def predict(id_, problem, source):
        raise RuntimeError(f"cannot solve {problem.item()}")

    server = _server_class(_gateway_class(spec))(predict)
    with pytest.raises(bg.GatewayRuntimeError) as caught:
        server.run_local_gateway((str(test_csv),))
    assert caught.value.error_type.name == "SERVER_RAISED_EXCEPTION"
    assert caught.value.error_details.startswith("cannot solve p")
    assert relay.available_port(spec.ports) == spec.ports[0]  # stopped: the port is free again
    assert not (tmp_path / "result.json").exists()


def test_run_local_gateway_writes_the_submission_in_the_working_directory(test_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = aimo3_spec(target_column="answer", predict_columns=("problem",))

    def predict(problem):
        return int(problem.item()[1:]) * 10  # a bare int, named by the spec's target column

    _server_class(_gateway_class(spec))(predict).run_local_gateway((str(test_csv),))
    written = pl.read_parquet(tmp_path / "submission.parquet")
    assert written.columns == ["id", "answer"]
    assert sorted(written.rows()) == [(f"r{i}", i * 10) for i in range(5)]


# ------------------------------------------------------------------------------------------------ the gateway entry


def test_the_entry_skips_unless_the_rerun_flag_is_set(monkeypatch, capsys, tmp_path):
    (tmp_path / "gateway").mkdir()
    monkeypatch.chdir(tmp_path / "gateway")
    monkeypatch.delenv("KAGGLE_IS_COMPETITION_RERUN", raising=False)
    assert main(_gateway_class(aimo3_spec()), []) == 0
    assert capsys.readouterr().out.strip() == "Skipping run for now"
    assert list((tmp_path / "gateway").iterdir()) == []


def test_a_malformed_host_mapping_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("KAGGLE_IS_COMPETITION_RERUN", "1")
    with pytest.raises(SystemExit) as caught:
        main(_gateway_class(aimo3_spec()), ["--host", "inference_server"])
    assert caught.value.code == 2
    assert "--host 'inference_server' is not NAME=ADDRESS" in capsys.readouterr().err.splitlines()[-1]


# ------------------------------------------------------------------------------------------------ specs


@pytest.mark.parametrize(("change", "message"), [
    ({"module_prefix": "aimo-3"}, "module_prefix 'aimo-3' is not a Python identifier"),
    ({"gateway_class": "1Gateway"}, "gateway_class '1Gateway' is not a Python identifier"),
    ({"competition": "a/b"}, "competition 'a/b' is not a competition slug"),
    ({"test_file": "../test.csv"}, "test_file '../test.csv' is not a file name"),
    ({"rows_per_call": 0}, "rows_per_call must be at least 1"),
    ({"deadline_seconds": 0}, "deadline_seconds must be positive"),
    ({"ports": ()}, "ports () must be a non-empty tuple"),
    ({"ports": (70000,)}, "must be a non-empty tuple of TCP ports"),
    ({"predict_columns": ()}, "predict_columns must name at least one column"),
])
def test_a_bad_spec_is_refused_in_one_line(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        aimo3_spec(**change)


def test_the_written_spec_reads_back_equal():
    spec = aimo3_spec(target_column="answer", predict_columns=("id", "problem"), deadline_seconds=1.5)
    assert eval(package.spec_source(spec), {"GatewaySpec": GatewaySpec}) == spec
    assert dataclasses.replace(spec) == spec


# ------------------------------------------------------------------------------------------------ the package


def test_write_package_writes_the_competition_modules_beside_a_clean_copy(tmp_path):
    stale = tmp_path / "kaggle_evaluation" / "old_gateway.py"
    stale.parent.mkdir()
    stale.write_text("stale")
    (package.PACKAGE_DIR / "core" / "__pycache__").mkdir(exist_ok=True)  # present after any import of the kit's copy
    spec = aimo3_spec()
    written = package.write_package(tmp_path, spec)
    assert written == tmp_path / "kaggle_evaluation"
    files = sorted(str(p.relative_to(written)) for p in written.rglob("*") if p.is_file())
    assert "aimo_3_gateway.py" in files and "aimo_3_inference_server.py" in files and "core/relay.py" in files
    assert not stale.exists() and not any("__pycache__" in name for name in files)
    source = (written / "aimo_3_gateway.py").read_text()
    assert "class AIMO3Gateway(SpecGateway):" in source and package.spec_source(spec) in source
    assert "class AIMO3InferenceServer(InferenceServer):" in (written / "aimo_3_inference_server.py").read_text()


def test_write_package_refuses_a_missing_folder_in_one_line(tmp_path):
    with pytest.raises(InputError) as caught:
        package.write_package(tmp_path / "absent", aimo3_spec())
    assert "not a directory" in str(caught.value) and "\n" not in str(caught.value)


def test_the_package_imports_only_itself_the_stdlib_and_its_five_libraries():
    offenders = {}
    for path in package.PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            bad = [n for n in names if n.split(".")[0] not in ALLOWED_THIRD_PARTY | set(sys.stdlib_module_names)]
            if bad:
                offenders[path.name] = bad
    assert offenders == {}


def test_the_kit_side_imports_neither_grpc_nor_polars():
    code = ("import sys, kit.mechanisms.inference_server.package; "
            "print(sorted(m for m in ('grpc', 'polars', 'pandas', 'pyarrow', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"

