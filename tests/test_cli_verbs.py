"""The verbs a competitor uses every day, answered by the emulator as Kaggle answers them: most driven in one
pass through the official client's Python API (no subprocess start per verb), a few through the `kaggle` CLI
itself (log streaming, a file submission to a code competition, and the environment `kit emulator serve`
prints)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests
from emulator_tools import SimplePack, write_kernel
from helpers import pr_config

from kit.chain.pushes import push_dataset
from kit.kaggle.client import KaggleClient
from kit.kaggle.emulator import start_in_thread

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

COMP = "llm-prompt-recovery"
USER = "sandbox-user"
KAGGLE_CLI = str(Path(sys.executable).with_name("kaggle"))


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    running = start_in_thread(tmp_path_factory.mktemp("verbs-state"), pack=SimplePack(), ready_delay=0)
    yield running
    running.stop()


@pytest.fixture
def api(emulator):
    """The official KaggleApi with the sandbox environment applied (the kit's client sets it up)."""
    client = KaggleClient(pr_config(), sandbox=True, endpoint_url=emulator.url, progress=False)
    with client._scoped_env(), contextlib.redirect_stdout(io.StringIO()):
        yield client.api


def _folder(root: Path, files: dict[str, str], meta: tuple[str, dict] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if meta:
        (root / meta[0]).write_text(json.dumps(meta[1]))
    return root


@pytest.mark.slow  # starts a kernel
def test_everyday_verbs_through_the_official_api(api, emulator, tmp_path):
    state = emulator.server.state
    client = KaggleClient(pr_config(), sandbox=True, endpoint_url=emulator.url, progress=False)
    ds = push_dataset(client, _folder(tmp_path / "d", {"a.txt": "alpha", "sub/b.txt": "beta"}), "verbs-data",
                      kind="other", poll=0.05)
    # datasets list / files / metadata / download
    assert ds.ref in [d.ref for d in api.dataset_list(search="verbs")]
    assert {f.name for f in api.dataset_list_files(ds.ref).dataset_files} == {"a.txt", "sub/b.txt"}
    meta = json.loads(Path(api.dataset_metadata(ds.ref, str(tmp_path / "meta"))).read_text())["info"]  # client's form
    assert meta["title"] == "Verbs Data" and meta["licenses"] == [{"name": "CC0-1.0"}]
    api.dataset_download_files(ds.ref, str(tmp_path / "dl"), unzip=True)
    assert (tmp_path / "dl" / "sub" / "b.txt").read_text() == "beta"
    # kernels list / pull / files / logs (and the stream behind `logs --follow`)
    ref = f"{USER}/verbs-kernel"
    push = client.kernel_push(write_kernel(tmp_path / "k", ref, "open('out.txt', 'w').write('x'); print('hello')"))
    client.wait_kernel(ref, push.version, timeout=30, poll=0.1)
    assert [k.ref for k in api.kernels_list(user=USER, search="verbs")] == [ref]
    api.kernels_pull(ref, str(tmp_path / "pulled"), metadata=True)
    assert "print('hello')" in (tmp_path / "pulled" / "verbs-kernel.py").read_text()
    assert json.loads((tmp_path / "pulled" / "kernel-metadata.json").read_text())["id"] == ref
    assert "out.txt" in [f.name for f in api.kernels_list_files(ref).files]
    assert "hello" in api.kernels_logs(ref)
    assert "hello" in "".join(e.get("data", "") for e in api.kernels_logs_stream(ref))
    # competitions list / files / download
    assert [c.title for c in api.competitions_list(search="prompt").competitions] == [COMP]
    assert {f.name for f in api.competition_list_files(COMP).files} == {"test.csv", "sample_submission.csv"}
    api.competition_download_files(COMP, str(tmp_path / "comp"))
    assert "test.csv" in zipfile.ZipFile(tmp_path / "comp" / f"{COMP}.zip").namelist()
    api.competition_download_file(COMP, "test.csv", str(tmp_path / "one"))
    assert (tmp_path / "one" / "test.csv").read_text().startswith("id,text")
    # quota
    assert api.quota_view().gpu_quota.total_time_allowed.total_seconds() == 30 * 3600
    # models create / instances create / versions create, mounted where a kernel finds them
    model = _folder(tmp_path / "m", {}, ("model-metadata.json", {
        "ownerSlug": USER, "slug": "tiny-base", "title": "Tiny base", "isPrivate": True, "description": "a model"}))
    assert api.model_create_new(str(model)).ref == f"{USER}/tiny-base"
    weights = _folder(tmp_path / "w", {"config.json": "{}", "model.safetensors": "w1"}, (
        "model-instance-metadata.json", {"ownerSlug": USER, "modelSlug": "tiny-base", "instanceSlug": "default",
                                         "framework": "transformers", "licenseName": "Apache 2.0"}))
    assert not api.model_instance_create(str(weights), dir_mode="zip").error
    (weights / "model.safetensors").write_text("w2")
    api.model_instance_version_create(f"{USER}/tiny-base/transformers/default", str(weights), "v2")
    v2 = state.model_instance_dir(USER, "tiny-base", "Transformers", "default", 2)
    assert (v2 / "model.safetensors").read_text() == "w2" and (v2 / "config.json").is_file()
    assert state.model_dir(f"{USER}/tiny-base/transformers/default/1") != v2
    # a file submission to a code competition: uploaded, then refused as Kaggle refuses it
    (tmp_path / "submission.csv").write_text("id,answer\n1,alpha\n")
    with pytest.raises(requests.HTTPError, match="Bad Request"):
        api.competition_submit(str(tmp_path / "submission.csv"), "file", COMP)


def _printed_env(emulator_url: str) -> dict[str, str]:
    """What `kit emulator serve` prints, applied: the exports, with NO_PROXY and friends unset."""
    from kit.kaggle.emulator.server import client_exports

    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "KAGGLE_USERNAME", "KAGGLE_KEY")}
    config = {"token": "sandbox-token", "username": USER, "key": "sandbox-key"}
    for line in client_exports(emulator_url, config):
        if line.startswith("export "):
            for pair in line[len("export "):].split("#")[0].split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


@pytest.mark.slow
def test_official_cli_follow_file_submit_and_printed_env(emulator, tmp_path):
    env = _printed_env(emulator.url)  # nothing else: proves the printed environment is enough
    client = KaggleClient(pr_config(), sandbox=True, endpoint_url=emulator.url, progress=False)
    ref = f"{USER}/verbs-follow"
    client.kernel_push(write_kernel(tmp_path / "k", ref, "import time; time.sleep(4); print('streamed line')"))
    started = time.monotonic()
    follow = subprocess.run([KAGGLE_CLI, "kernels", "logs", ref, "--follow"], env=env, capture_output=True,
                            text=True, timeout=60, cwd=tmp_path)
    assert follow.returncode == 0 and "streamed line" in follow.stdout, follow.stdout + follow.stderr
    assert time.monotonic() - started < 30
    (tmp_path / "submission.csv").write_text("id,answer\n1,alpha\n")
    upload = subprocess.run([KAGGLE_CLI, "competitions", "submit", COMP, "-f", "submission.csv", "-m", "file"],
                            env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert upload.returncode == 1 and "Bad Request" in upload.stderr, upload.stdout + upload.stderr  # after the upload
