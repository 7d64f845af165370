"""Offline wheel bundles: what the inference kernel installs with `pip install --no-index --find-links`.

A bundle is a folder of wheels plus `manifest.json`. It holds the kit's own wheel and every distribution
of its dependency closure that the Kaggle image does not already satisfy, as binary wheels for the image's
Python version and platform. The kernel installs it with

    pip install --no-index --find-links /kaggle/input/<wheels-dataset> kaggle-kit

so pip keeps every installed package that satisfies a requirement and takes the rest from the bundle.

The image is described by a freeze list (`name==version` lines; a hand-written approximation ships in
kit/data, a real `pip list --format=freeze` from Kaggle replaces it). To resolve "as if on the image" this
module runs pip in a subprocess whose only installed distributions are metadata stubs of that list
(`python -S`, so this machine's site-packages are invisible), whose environment markers describe the target
(pip evaluates markers against the running interpreter even with --python-version), and which may use the
platform options without --target (--target would make pip ignore the installed stubs). The same runner,
with --no-index and the bundle as the only source, is the offline verification.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, InputError, KitError, WaitTimeoutError

DIST_NAME = "kaggle-kit"
MANIFEST = "manifest.json"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_IMAGE_FREEZE = Path(__file__).resolve().parent / "data" / "kaggle_image_freeze.txt"
# Fixed wheel timestamps (1980-01-01, the zip epoch) so a rebuilt kit wheel is byte-identical.
SOURCE_DATE_EPOCH = "315532800"
PIP_TIMEOUT_S = 1800  # one pip run (a resolve or a download of the closure); sockets time out sooner
# Parts of the repository that make up the kit's wheel; everything else (tests, .venv, caches) stays out.
_SOURCE_ITEMS = ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "MANIFEST.in", "kit")
_SOURCE_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")

_BOOTSTRAP = r"""
import json, sys
cfg = json.loads(sys.argv[1])
sys.path[:0] = cfg["path"]
from pip._vendor.packaging import markers
env = markers.default_environment()
env.update(cfg["markers"])
markers.default_environment = lambda: dict(env)
from pip._internal.cli import cmdoptions
check = cmdoptions.check_dist_restriction
cmdoptions.check_dist_restriction = lambda options, check_target=False: check(options, check_target=False)
from pip._internal.cli.main import main
sys.exit(main(cfg["args"]))
"""


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------------------- target and image


@dataclass(frozen=True)
class Target:
    """The interpreter the bundle is for: Python X.Y and one or more wheel platform tags."""

    python_version: str
    platform: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"3\.\d{1,2}", self.python_version):
            raise ConfigError(f"python version must look like 3.10, got {self.python_version!r}")
        if not self.platform or not all(re.fullmatch(r"(many)?linux[a-z0-9_]+", p) for p in self.platforms()):
            raise ConfigError(f"bad wheel platform tag {self.platform!r}: Kaggle images are Linux "
                              "(e.g. manylinux2014_x86_64 or manylinux_2_31_x86_64)")

    def platforms(self) -> list[str]:
        """The given tags (comma-separated) plus the older manylinux tags each one accepts."""
        out: list[str] = []
        for tag in (p.strip() for p in self.platform.split(",")):
            for expanded in _manylinux_family(tag):
                if expanded not in out:
                    out.append(expanded)
        return out

    def pip_args(self) -> list[str]:
        """pip options selecting binary wheels for this target."""
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python_version]
        for tag in self.platforms():
            args += ["--platform", tag]
        return args

    def markers(self) -> dict[str, str]:
        """PEP 508 marker values of the target (pip would otherwise use this machine's)."""
        machine = self.platforms()[0].rsplit("_", 1)[-1]
        machine = {"64": "x86_64"}.get(machine, machine)  # manylinux..._x86_64 splits as x86 / 64
        return {"python_version": self.python_version, "python_full_version": f"{self.python_version}.0",
                "implementation_name": "cpython", "platform_python_implementation": "CPython",
                "platform_machine": machine, "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix"}


def _manylinux_family(tag: str) -> list[str]:
    """`manylinux_2_31_x86_64` -> itself, every older manylinux_2_N and the legacy aliases pip knows."""
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    m = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", tag)
    prefix, _, arch = tag.partition("_")
    if m:
        glibc, arch = int(m.group(1)), m.group(2)
    elif prefix in legacy:
        glibc = legacy[prefix]
    else:
        return [tag]
    tags = [f"manylinux_2_{n}_{arch}" for n in range(glibc, 4, -1)]
    tags += [f"{name}_{arch}" for name, n in legacy.items() if n <= glibc]
    return tags


def read_freeze(path: Path | None = None) -> dict[str, str]:
    """The image's installed set from a freeze list: canonical name -> version.

    Accepts `name==version` (and `===`), and `name @ URL` when the URL's file name carries the version;
    comments, blank lines and options (`-e`, `--...`) are skipped. A line it cannot read is an InputError.
    """
    path = Path(path) if path else DEFAULT_IMAGE_FREEZE
    if not path.is_file():
        raise InputError(f"image freeze list not found: {path}", hint="capture one with `pip list --format=freeze`")
    installed: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        pinned = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;]+)(?:\s*;.*)?", line)
        if pinned:
            installed[canonical(pinned.group(1))] = pinned.group(2)
            continue
        direct = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*(\S+)", line)
        version = _version_from_url(direct.group(1), direct.group(2)) if direct else None
        if not version:
            raise InputError(f"{path}:{number}: cannot read a name and version from {raw.strip()!r}",
                             hint="use `pip list --format=freeze`, which writes name==version lines")
        installed[canonical(direct.group(1))] = version
    return installed


def _version_from_url(name: str, url: str) -> str | None:
    filename = url.rstrip("/").rsplit("/", 1)[-1]
    if filename.endswith(".whl"):
        parts = filename.split("-")
        stem, version = (parts[0], parts[1]) if len(parts) >= 5 else ("", "")
    else:
        stem, _, version = re.sub(r"\.(tar\.gz|zip|tar\.bz2)$", "", filename).rpartition("-")
    return version if stem and canonical(stem) == canonical(name) and version[:1].isdigit() else None


def freeze_hash(installed: dict[str, str]) -> str:
    """sha256 of the normalised installed set (what the manifest records as the image it was built for)."""
    text = "\n".join(f"{name}=={installed[name]}" for name in sorted(installed))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------- pip runner


@dataclass
class PipResult:
    """Exit status and captured output of one pip run."""

    returncode: int
    output: str


def _write_stubs(site: Path, installed: dict[str, str]) -> None:
    """Metadata-only dist-info folders: pip sees them as installed distributions without dependencies."""
    for name, version in installed.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "INSTALLER").write_text("kit-image-stub\n")


def _pip_dir(work: Path) -> Path:
    """A folder holding only pip (a link to this interpreter's pip), so `python -S` can import it alone."""
    spec = importlib.util.find_spec("pip")
    if spec is None or not spec.submodule_search_locations:
        raise KitError("pip is not importable in this environment", hint="install pip into the kit's venv")
    root = work / "piproot"
    root.mkdir(exist_ok=True)
    link = root / "pip"
    if not link.exists():
        link.symlink_to(list(spec.submodule_search_locations)[0], target_is_directory=True)
    return root


def run_pip(args: list[str], *, target: Target, installed: dict[str, str], work: Path,
            offline: bool = False) -> PipResult:
    """Run pip as if on the target image: stub-installed image set, target markers, platform options.

    `offline` also hides every pip config file and PIP_* variable, so only the sources in `args` count.
    """
    site = work / f"image-{freeze_hash(installed)[:12]}"  # one stub site per installed set
    if not site.exists():
        _write_stubs(site, installed)
    cfg = {"path": [str(site), str(_pip_dir(work))], "markers": target.markers(), "args": args}
    env = dict(os.environ)
    if offline:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    cmd = [sys.executable, "-I", "-S", "-c", _BOOTSTRAP, json.dumps(cfg)]
    return _run(cmd, env=env, cwd=work)


def _run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> PipResult:
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise WaitTimeoutError(f"a pip run went past {PIP_TIMEOUT_S} s",
                               hint="check the network to the package index") from None
    return PipResult(proc.returncode, proc.stdout + proc.stderr)


def pip_failure(output: str, what: str, hint: str | None = None) -> KitError:
    """One clear error from pip's output, naming the distribution pip could not find when there is one."""
    missing = re.findall(r"No matching distribution found for (\S+)", output)
    if missing:
        return InputError(f"{what}: no wheel for {missing[-1]} in the sources for this target",
                          hint=hint or "a binary wheel for the image's Python and platform is needed: pin a version "
                          "that has one in [kaggle] wheels_constraints, or list the package in the image freeze")
    conflict = re.search(r"The conflict is caused by:\n((?:.+\n?)+?)\n", output)
    if conflict:
        lines = " ; ".join(line.strip() for line in conflict.group(1).splitlines() if line.strip())
        return InputError(f"{what}: dependency conflict: {lines}")
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    tail = errors[-1] if errors else (output.strip().splitlines() or ["pip failed"])[-1]
    return KitError(f"{what}: {tail}")


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
                shutil.copytree(path, src / item, ignore=_SOURCE_JUNK)
            elif path.is_file():
                shutil.copy2(path, src / item)
        if host_only:
            _move_to_host_extra(src / "pyproject.toml", host_only)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env.update(PIP_CONFIG_FILE=os.devnull, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, PIP_DISABLE_PIP_VERSION_CHECK="1")
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
               "-w", str(out), str(src)]
        proc = _run(cmd, env=env)
        built = sorted(out.glob("*.whl"))
        if proc.returncode != 0 or len(built) != 1:
            tail = proc.output.strip().splitlines()[-3:]
            raise KitError(f"building the kit's wheel failed: {' | '.join(tail) or 'no wheel produced'}")
        target = dest / built[0].name
        shutil.copyfile(built[0], target)
    return target


def _move_to_host_extra(pyproject: Path, host_only: list[str] | tuple[str, ...]) -> None:
    """Rewrite a (copied) pyproject.toml: dependencies named in `host_only` go to the `host` extra."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10 only
        import tomli as tomllib
    text = pyproject.read_text(encoding="utf-8")
    deps = tomllib.loads(text).get("project", {}).get("dependencies", [])
    drop = {canonical(n) for n in host_only}
    name_of = lambda req: canonical(re.split(r"[\s\[<>=!~;@(]", req.strip(), maxsplit=1)[0])  # noqa: E731
    keep = [d for d in deps if name_of(d) not in drop]
    moved = [d for d in deps if name_of(d) in drop]
    if not moved:
        return
    block = re.search(r"(?ms)^dependencies\s*=\s*\[.*?^\]", text)
    if block is None:
        raise KitError(f"{pyproject}: cannot find the dependencies array to rewrite")
    text = text[: block.start()] + "dependencies = " + json.dumps(keep) + text[block.end():]
    extra = "host = " + json.dumps(moved)
    header = re.search(r"(?m)^\[project\.optional-dependencies\]\s*$", text)
    if header:
        text = text[: header.end()] + "\n" + extra + text[header.end():]
    else:
        text = text.rstrip("\n") + "\n\n[project.optional-dependencies]\n" + extra + "\n"
    pyproject.write_text(text, encoding="utf-8")


def resolve_missing(requirement: Path | str, target: Target, installed: dict[str, str], work: Path,
                    constraints: list[str] | None = None, sources: list[str] | None = None,
                    extra_args: list[str] | None = None) -> list[dict[str, str]]:
    """What pip would install on the image for `requirement`: [{name, version, url}], the kit itself included.

    Uses the configured package index (or only `sources`, find-links folders, when given: no network).
    """
    report = work / f"resolve-{hashlib.sha1(str(requirement).encode()).hexdigest()[:8]}.json"
    args = ["install", "--dry-run", "--report", str(report), *target.pip_args(), *(extra_args or [])]
    if constraints:
        cfile = work / "constraints.txt"
        cfile.write_text("\n".join(constraints) + "\n", encoding="utf-8")
        args += ["-c", str(cfile)]
    if sources is not None:
        args += ["--no-index", *(a for s in sources for a in ("--find-links", s))]
    res = run_pip([*args, str(requirement)], target=target, installed=installed, work=work,
                  offline=sources is not None)
    if res.returncode != 0:
        raise pip_failure(res.output, f"resolving {Path(str(requirement)).name} for the image")
    items = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    return [{"name": canonical(i["metadata"]["name"]), "version": i["metadata"]["version"],
             "url": i.get("download_info", {}).get("url", "")} for i in items]


def download_wheels(pins: list[str], target: Target, dest: Path, sources: list[str] | None = None) -> list[Path]:
    """Download exactly these `name==version` wheels for the target (no dependencies) into `dest`."""
    if not pins:
        return []
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.glob("*.whl"))
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), *target.pip_args()]
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if sources is not None:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")} | {"PIP_CONFIG_FILE": os.devnull}
        cmd += ["--no-index", *(a for s in sources for a in ("--find-links", s))]
    proc = _run([*cmd, *pins], env=env)
    if proc.returncode != 0:
        raise pip_failure(proc.output, "downloading the bundle's wheels")
    return sorted(set(dest.glob("*.whl")) - before)


def wheel_entry(path: Path) -> dict[str, Any]:
    """Manifest row of one wheel: name, version (from its METADATA), filename, sha256, size."""
    try:
        with zipfile.ZipFile(path) as zf:
            meta_name = next(n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
            meta = zf.read(meta_name).decode("utf-8", "replace")
    except (zipfile.BadZipFile, StopIteration) as exc:
        raise InputError(f"{path.name} is not a valid wheel ({exc or 'no METADATA'})") from None
    fields = dict(re.findall(r"(?m)^(Name|Version): (.+?)\s*$", meta.split("\n\n", 1)[0]))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"name": canonical(fields.get("Name", path.name.split("-")[0])), "version": fields.get("Version", ""),
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


def build_bundle(out: Path, *, kit_only: bool = False, python_version: str = "3.10",
                 platform: str = "manylinux2014_x86_64", image_freeze: Path | None = None, verify: bool = True,
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

    defaults = KaggleConfig()
    constraints = defaults.wheels_constraints if constraints is None else constraints
    host_only = defaults.wheels_host_only if host_only is None else host_only

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
        manifest = make_manifest(stage, target, installed, str(image_freeze or "kit default"), kit_only)
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
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


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
    from kit.kaggle.client import kaggle_client

    bundle = load_bundle(folder)
    client = kaggle_client(config, sandbox=sandbox)
    notes = f"kit wheels {bundle.content_hash[:12]}: {len(bundle.wheels)} wheels, {bundle.total_bytes} bytes"
    pushed = client.dataset_push(bundle.path, slug or config.kaggle.wheels_dataset, kind="wheels", notes=notes,
                                 wait=wait)
    return {"ref": pushed.ref, "version": pushed.version, "skipped": pushed.skipped, "status": pushed.status,
            "content_hash": pushed.content_hash, "manifest_hash": bundle.content_hash, "sandbox": client.sandbox}
