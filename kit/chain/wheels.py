"""Offline wheel bundles: what the inference kernel installs with `pip install --no-index --find-links`.

A bundle is a folder of wheels plus `manifest.json`. It holds the kit's own wheel and every distribution
of its dependency closure that the Kaggle image does not already satisfy, as binary wheels for the image's
Python version and platform. The kernel installs it with

    pip install --no-index --find-links /kaggle/input/<wheels-dataset> kaggle-kit

so pip keeps every installed package that satisfies a requirement and takes the rest from the bundle.

The image is described by a freeze list (`name==version` lines; a hand-written approximation ships in
kit/data, a real `pip list --format=freeze` from Kaggle replaces it). Resolving for the image (`uv pip compile`
for the target's Python and platform, the image's packages as preferred stub wheels) lives in kit/chain/pipresolve.py;
the same resolver, with --no-index and the bundle as the only source, is the offline verification here.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from kit.chain.pipresolve import (
    DEFAULT_IMAGE_FREEZE,
    PIP_TIMEOUT_S,
    ImageProfile,
    PipResult,
    Target,
    canonical,
    download_wheels,
    freeze_hash,
    load_profile,
    pip_env,
    pip_failure,
    read_freeze,
    resolve_missing,
    run_pip,
)
from kit.errors import InputError, KitError
from kit.files import atomic_dir, write_json

__all__ = ["DEFAULT_IMAGE_FREEZE", "DIST_NAME", "MANIFEST", "PIP_TIMEOUT_S", "Bundle", "PipResult", "Target",
           "build_bundle", "build_kit_wheel", "canonical", "download_wheels", "freeze_hash", "load_bundle",
           "make_manifest", "manifest_hash", "pip_failure", "push_bundle", "read_freeze", "resolve_missing",
           "verify_bundle", "wheel_entry"]

DIST_NAME = "kaggle-kit"
MANIFEST = "manifest.json"
REPO_ROOT = Path(__file__).resolve().parents[2]
# Fixed wheel timestamps (1980-01-01, the zip epoch) so a rebuilt kit wheel is byte-identical.
SOURCE_DATE_EPOCH = "315532800"
# Parts of the repository that make up the kit's wheel; everything else (tests, .venv, caches) stays out.
_SOURCE_ITEMS = ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "MANIFEST.in", "kit")
_BUILD_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
# Answers never travel to a kernel: a pack's labels (`*_labels.csv`) and hidden sets (`hidden/` folders) stay on the
# host, where the local scorer and the sandbox's re-runs read them; a kernel that could read them would be scored
# on a rehearsal Kaggle never gives.
_ANSWERS = shutil.ignore_patterns("*_labels.csv", "hidden")


def _source_junk(folder: str, names: list[str]) -> set[str]:
    """What a copy of the kit's sources for the kernel's wheel leaves out: build output and answers."""
    return set(_BUILD_JUNK(folder, names)) | set(_ANSWERS(folder, names))

# ---------------------------------------------------------------------------- building


def build_kit_wheel(dest: Path, source: Path = REPO_ROOT, host_only: list[str] | tuple[str, ...] = ()) -> Path:
    """Build the kit's own wheel (no dependencies, no network) from a clean copy of its sources.

    The copy keeps the working tree free of build/ and egg-info and keeps stale build output out of the
    wheel; SOURCE_DATE_EPOCH makes the wheel byte-identical when the sources are. Declared dependencies
    named in `host_only` move to the optional extra `host` in this wheel, so the kernel's
    `pip install kaggle-kit` neither needs nor touches them (the image's own jupyter stack stays as it is).
    """
    if not (source / "pyproject.toml").is_file():
        raise InputError(f"no pyproject.toml in {source}", hint="point at the kit's repository root")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kit-wheel-") as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        src.mkdir()
        for item in _SOURCE_ITEMS:
            path = source / item
            if path.is_dir():
                shutil.copytree(path, src / item, ignore=_source_junk)
            elif path.is_file():
                shutil.copy2(path, src / item)
        if host_only:
            _move_to_host_extra(src / "pyproject.toml", host_only)
        env = pip_env(offline=True, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
               "-w", str(out), str(src)]
        proc = run_pip(cmd, env=env)
        built = sorted(out.glob("*.whl"))
        if proc.returncode != 0 or len(built) != 1:
            tail = proc.output.strip().splitlines()[-3:]
            raise KitError(f"building the kit's wheel failed: {' | '.join(tail) or 'no wheel produced'}")
        target = dest / built[0].name
        shutil.copyfile(built[0], target)
    return target


def _move_to_host_extra(pyproject: Path, host_only: list[str] | tuple[str, ...]) -> None:
    """Rewrite a (copied) pyproject.toml: dependencies named in `host_only` go to the `host` extra."""
    import tomlkit

    doc = tomlkit.parse(pyproject.read_text(encoding="utf-8"))
    project = doc.get("project")
    if project is None or "dependencies" not in project:
        raise KitError(f"{pyproject}: no [project] dependencies to rewrite")
    drop = {canonical(n) for n in host_only}
    deps = [str(d) for d in project["dependencies"]]
    moved = [d for d in deps if canonical(Requirement(d).name) in drop]
    if not moved:
        return
    project["dependencies"] = [d for d in deps if d not in moved]
    project.setdefault("optional-dependencies", tomlkit.table())["host"] = moved
    pyproject.write_text(tomlkit.dumps(doc), encoding="utf-8")


def wheel_entry(path: Path) -> dict[str, Any]:
    """Manifest row of one wheel: name, version (from its METADATA), filename, sha256, size."""
    try:
        with zipfile.ZipFile(path) as zf:
            meta_name = next(n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
            meta = BytesHeaderParser().parsebytes(zf.read(meta_name))  # METADATA is an email header block
        name, version = parse_wheel_filename(path.name)[:2]  # when METADATA lacks a field
    except (zipfile.BadZipFile, StopIteration, InvalidWheelFilename) as exc:
        raise InputError(f"{path.name} is not a valid wheel ({exc or 'no METADATA'})") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"name": canonical(meta.get("Name") or str(name)), "version": meta.get("Version") or str(version),
            "filename": path.name, "sha256": digest, "size": path.stat().st_size}


def make_manifest(folder: Path, target: Target, installed: dict[str, str], image_source: str,
                  kit_only: bool) -> dict[str, Any]:
    """The bundle's manifest: every wheel with its hash, the target, and the image list it was cut against.

    Nothing time- or machine-dependent goes in, so an identical rebuild gives an identical manifest.
    """
    wheels = sorted((wheel_entry(p) for p in folder.glob("*.whl")), key=lambda w: (w["name"], w["filename"]))
    return {
        "format": 1,
        "distribution": DIST_NAME,
        "install": f"pip install --no-index --find-links <bundle> {DIST_NAME}",
        "kit_only": kit_only,
        "target": {"python_version": target.python_version, "platform": target.platform},
        "image": {"freeze_sha256": freeze_hash(installed), "packages": len(installed),
                  "source": image_source},
        "wheels": wheels,
        "total_bytes": sum(w["size"] for w in wheels),
    }


def manifest_hash(manifest: dict[str, Any]) -> str:
    """Content hash of a bundle: sha256 of its canonical manifest (which pins every wheel's sha256)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# ---------------------------------------------------------------------------- bundles


@dataclass
class Bundle:
    """A built bundle folder: its wheels (manifest rows), manifest and content hash."""

    path: Path
    wheels: list[dict[str, Any]]
    manifest: dict[str, Any]
    total_bytes: int
    content_hash: str
    verified: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json output."""
        return {"path": str(self.path), "wheels": [w["filename"] for w in self.wheels],
                "total_bytes": self.total_bytes, "content_hash": self.content_hash, "verified": self.verified,
                "target": self.manifest["target"], "kit_only": self.manifest["kit_only"]}


def verify_bundle(folder: Path, target: Target, installed: dict[str, str], work: Path,
                  no_deps: bool = False) -> list[dict[str, str]]:
    """Check offline that `pip install --no-index --find-links folder kaggle-kit` resolves on the image.

    Returns what pip would install; raises InputError naming the distribution no source provides.
    """
    extra = ["--no-deps"] if no_deps else []
    try:
        return resolve_missing(f"{DIST_NAME}", target, installed, work, sources=[str(folder)], extra_args=extra)
    except KitError as exc:
        hint = "rebuild the bundle with `kit wheels`, or list the package in the image freeze if the image has it"
        raise type(exc)(f"bundle check failed: {exc.message}", hint=hint) from None


@dataclass(frozen=True)
class ImageTarget:
    """What `kit wheels` builds for: the image's package list, Python, platform and constraints."""

    freeze: Path
    python_version: str
    platform: str
    constraints: list[str]
    profile: ImageProfile


def image_target(kaggle: Any, image_freeze: Path | None = None, python_version: str | None = None,
                 platform: str | None = None) -> ImageTarget:
    """Resolve [kaggle] image_profile with its overrides: a user's freeze replaces the package list, flags and
    image_python / image_platform replace the profile's, wheels_constraints add to its constraints."""
    profile = load_profile(kaggle.image_profile)
    freeze = image_freeze or (Path(kaggle.image_freeze) if kaggle.image_freeze else profile.path)
    python = python_version or kaggle.image_python or profile.python
    plat = platform or kaggle.image_platform or profile.platform
    if not python or not plat:
        raise InputError(f"image profile {profile.path} names no python/platform",
                         hint="set [kaggle] image_python and image_platform")
    return ImageTarget(Path(freeze), python, plat, [*profile.constraints, *kaggle.wheels_constraints], profile)


SANDBOX_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"  # the stand-in image runs this interpreter
SANDBOX_PLATFORM = "manylinux2014_x86_64"


def sandbox_image_freeze() -> Path:
    """The sandbox's image profile: a freeze of the stand-in image (this environment without the kit)."""
    from kit.assets import assets_dir
    from kit.kaggle.isolation import image_freeze

    path = assets_dir() / "sandbox-image-freeze.txt"
    text = "# kit image profile: sandbox stand-in (this environment without the kit)\n" + image_freeze()
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def sandbox_bundle() -> Path:
    """The kit-only bundle sandbox kernels install (cached by the kit's source hash in the assets folder).

    The stand-in image already holds every dependency, so the kernel installs just this wheel, --no-deps."""
    from kit.assets import assets_dir

    digest = hashlib.sha256()
    # notebooks/ too: the packs' notebook folders are links into it, which rglob does not follow
    for path in sorted([*(REPO_ROOT / "kit").rglob("*"), *(REPO_ROOT / "notebooks").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    for name in ("pyproject.toml", "README.md"):
        if (REPO_ROOT / name).is_file():
            digest.update((REPO_ROOT / name).read_bytes())
    folder = assets_dir() / f"sandbox-wheels-{digest.hexdigest()[:12]}"
    if not (folder / MANIFEST).is_file():
        with atomic_dir(folder) as tmp:  # checked offline against the stand-in image, the sandbox's profile
            build_bundle(tmp, kit_only=True, python_version=SANDBOX_PYTHON, platform=SANDBOX_PLATFORM,
                         image_freeze=sandbox_image_freeze(), verify=True)
    return folder


# The kit's host-side tools, host-only whatever kit.toml says: lists written by older `kit init` predate them, and
# the kernel must not ship the uv binary for them.
KIT_HOST_TOOLS = ("tomlkit", "uv")


def build_bundle(out: Path, *, kit_only: bool = False, python_version: str = "3.12",
                 platform: str = "manylinux_2_35_x86_64", image_freeze: Path | None = None, verify: bool = True,
                 constraints: list[str] | None = None, host_only: list[str] | None = None,
                 sources: list[str] | None = None, source: Path = REPO_ROOT, kit_wheel: Path | None = None,
                 progress: bool = False) -> Bundle:
    """Build the offline bundle in `out`: kit wheel + missing closure for the target, manifest, offline check.

    `sources` (find-links folders) replaces the package index (no network); `kit_wheel` reuses a built
    kit wheel instead of building one. `out` must be empty, absent, or an earlier bundle (replaced).
    `constraints` and `host_only` default to the [kaggle] wheels_constraints and wheels_host_only defaults.
    """
    from tqdm.auto import tqdm

    from kit.config import KaggleConfig

    defaults = KaggleConfig()  # the generic lists: a pack's own host-only packages come from the workspace's [kaggle]
    if constraints is None:
        constraints = [*load_profile(defaults.image_profile).constraints, *defaults.wheels_constraints]
    host_only = defaults.wheels_host_only if host_only is None else [*host_only, *KIT_HOST_TOOLS]

    target = Target(python_version, platform)
    installed = read_freeze(image_freeze)
    installed.pop(DIST_NAME, None)  # a freeze taken where the kit was installed must not hide it from the bundle
    out = Path(out)
    _check_out(out)
    steps = ["kit wheel"] + ([] if kit_only else ["resolve", "download"]) + (["verify"] if verify else [])
    bar = tqdm(total=len(steps), desc="kit wheels", unit="step", disable=not progress)
    with tempfile.TemporaryDirectory(prefix="kit-wheels-") as tmp:
        work, stage = Path(tmp), Path(tmp) / "bundle"
        stage.mkdir()
        _step(bar, "kit wheel")
        if kit_wheel is not None:
            shutil.copyfile(kit_wheel, stage / Path(kit_wheel).name)
        else:
            build_kit_wheel(stage, source, host_only)
        if not kit_only:
            own = next(stage.glob("*.whl"))
            _step(bar, "resolve")
            items = resolve_missing(own, target, installed, work, list(constraints), sources)
            pins = sorted(f"{i['name']}=={i['version']}" for i in items if i["name"] != DIST_NAME)
            _step(bar, f"download {len(pins)}")
            download_wheels(pins, target, stage, sources)
        if verify:
            _step(bar, "verify")
            verify_bundle(stage, target, installed, work, no_deps=kit_only)
        bar.close()
        manifest = make_manifest(stage, target, installed, str(image_freeze or DEFAULT_IMAGE_FREEZE.name), kit_only)
        manifest["options"] = {"constraints": sorted(constraints), "host_only": sorted(canonical(n) for n in host_only)}
        _install(stage, out, manifest)
    return Bundle(out, manifest["wheels"], manifest, manifest["total_bytes"], manifest_hash(manifest), verify)


def _step(bar: Any, name: str) -> None:
    bar.set_postfix_str(name)
    bar.update(1)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise InputError(f"{out} is not empty and holds no {MANIFEST}: refusing to write a bundle into it",
                         hint="pass an empty folder or an earlier bundle to --out")


def _install(stage: Path, out: Path, manifest: dict[str, Any]) -> None:
    """Replace the bundle in `out` with the staged one (stale wheels of an earlier build removed)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.whl")) + [out / MANIFEST]:
        old.unlink(missing_ok=True)
    for wheel in stage.glob("*.whl"):
        shutil.move(str(wheel), out / wheel.name)
    write_json(out / MANIFEST, manifest)


def load_bundle(folder: Path) -> Bundle:
    """Read a bundle folder and check it is exactly what its manifest says (no extra or altered files)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder} holds no {MANIFEST}", hint="build the bundle with `kit wheels` first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        listed = {w["filename"]: w for w in manifest["wheels"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a kit wheels manifest ({exc})") from None
    present = {p.name for p in folder.iterdir() if p.name != MANIFEST}
    if present != set(listed):
        extra, missing = sorted(present - set(listed)), sorted(set(listed) - present)
        raise InputError(f"{folder} does not match its manifest (extra: {extra or 'none'}, missing: "
                         f"{missing or 'none'})", hint="rebuild it with `kit wheels`")
    for name, row in listed.items():
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != row["sha256"]:
            raise InputError(f"{folder / name} does not match the sha256 in its manifest",
                             hint="rebuild it with `kit wheels`")
    return Bundle(folder, manifest["wheels"], manifest, manifest.get("total_bytes", 0), manifest_hash(manifest),
                  verified=False)


def push_bundle(folder: Path, config: Any, *, sandbox: bool | None = None, slug: str | None = None,
                wait: bool = True) -> dict[str, Any]:
    """Push a checked bundle as the wheels dataset; unchanged bundles are not uploaded again.

    The folder holds exactly the manifest and the wheels it pins by sha256, so the client's content hash
    (over the files) changes exactly when the manifest does, and the client skips an identical rebuild.
    """
    from kit.chain.pushes import push_dataset
    from kit.chain.uploads import check_bundle
    from kit.kaggle.client import kaggle_client

    bundle = load_bundle(folder)
    check_bundle(bundle.path, MANIFEST, DIST_NAME.replace("-", "_") + "-")  # links, secrets: before any upload
    client = kaggle_client(config, sandbox=sandbox)
    notes = f"kit wheels {bundle.content_hash[:12]}: {len(bundle.wheels)} wheels, {bundle.total_bytes} bytes"
    pushed = push_dataset(client, bundle.path, slug or config.kaggle.wheels_dataset, kind="wheels", notes=notes,
                          wait=wait)
    return {"ref": pushed.ref, "version": pushed.version, "skipped": pushed.skipped, "status": pushed.status,
            "content_hash": pushed.content_hash, "manifest_hash": bundle.content_hash, "sandbox": client.sandbox}
