"""Workspace config (`kit.toml`) and machine state (`KIT_HOME`).

Each kit.toml section is a dataclass whose fields carry their help text; `kit init` renders the commented
file from those same fields, so the documentation cannot drift from the code. Values are validated when
read: an unknown key or a value of the wrong type is one clear `ConfigError`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import ConfigError
from kit.files import atomic_write
from kit.kernel.guard import DEFAULT_BUDGET_SECONDS, DEFAULT_MARGIN_SECONDS
from kit.typecheck import check, field_types

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 only
    import tomli as tomllib

CONFIG_NAME = "kit.toml"


def setting(default: Any, help: str) -> Any:
    """A dataclass field with help text (mutable defaults wrapped in a factory): one key of a kit.toml section."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help})
    return field(default=default, metadata={"help": help})


_f = setting


@dataclass
class CompetitionConfig:
    """Which competition the workspace targets."""

    slug: str = _f("", "Kaggle competition slug (the URL part after /competitions/); it picks the competition "
                   "pack, whose sections follow [infer]. Empty: the one pack installed (an error when there are "
                   "several; `kit packs` lists them).")


@dataclass
class KaggleConfig:
    """Kaggle identity and the slugs of what the kit pushes."""

    username: str = _f("", "Your Kaggle username (owner of the datasets and kernels below).")
    adapter_dataset: str = _f("kit-lora-adapter", "Dataset slug for the LoRA adapter (private by default).")
    wheels_dataset: str = _f("kit-offline-wheels", "Dataset slug for the offline wheel bundle.")
    base_model: str = _f(
        "",
        "Base model source mounted in the kernel: a dataset ref 'owner/slug' or a model ref "
        "'owner/model/framework/variation/N'. Empty: the kit's default model (the embedded instruct model), "
        "published as a sandbox Kaggle Model (sandbox only).",
    )
    model_sources: dict = _f(
        {},
        "Further model sources the pack's recipes mount, by the source name the competition pack declares (listed "
        "below): a model ref 'owner/model/framework/variation/N' or a dataset 'owner/slug' each. Left out or "
        "empty: the kit's default model, published as a sandbox Kaggle Model (sandbox only).",
    )
    kernel_slug: str = _f("kit-infer", "Slug of the inference kernel `kit submit` pushes.")
    kernel_title: str = _f("kit infer", "Title of the inference kernel (5+ characters).")
    accelerator: str = _f(
        "NvidiaTeslaT4",
        "Kernel machine_shape: NvidiaTeslaT4, NvidiaL4, NvidiaH100, ... or 'none' (CPU); P100 and TPU v3 are retired.",
    )
    kernel_timeout_seconds: int = _f(DEFAULT_BUDGET_SECONDS,
                                     "Session timeout for pushed kernels (Kaggle's code competitions allow 9 h).")
    image_profile: str = _f(
        "kaggle-gpu-2026",
        "Image `kit wheels` targets: a profile name from kit/data (kaggle-gpu-2026: today's GPU image, Python 3.12; "
        "kaggle-gpu-2024: the spring-2024 image, Python 3.10) or a profile/freeze file path.",
    )
    image_python: str = _f("", "Python X.Y of the Kaggle image, for `kit wheels`. Empty: the image profile's.")
    image_platform: str = _f("", "Wheel platform tag of the Kaggle image, for `kit wheels`. Empty: the profile's.")
    docker_image_pinning_type: str = _f(
        "original", "kernel-metadata.json docker_image_pinning_type: 'original' (the image the kernel was first "
        "run on; a new kernel gets today's) or 'latest'.",
    )
    sandbox_input_layout: str = _f(
        "2025", "Where sandbox kernels (emulator, run-local) find their inputs: '2025' (the 2025-26 layout, "
        "/kaggle/input/datasets/<owner>/<slug>, models/..., competitions/...) or '2024' (/kaggle/input/<slug>).",
    )
    dataset_license: str = _f(
        "CC0-1.0", "License of pushed datasets, spelled as Kaggle lists it (CC0-1.0, apache-2.0, CC-BY-4.0, ...)."
    )
    dataset_timeout_seconds: int = _f(1800, "How long a push waits for the new dataset version to become READY.")
    image_freeze: str = _f(
        "", "`pip list --format=freeze` of the Kaggle image, for `kit wheels`; replaces the profile's package list."
    )
    wheels_host_only: list = _f(
        ["kaggle", "six", "tenacity", "papermill", "nbformat", "ipykernel", "matplotlib", "tomlkit", "uv",
         "grpcio", "protobuf", "polars", "pyarrow", "pandas"],
        "Kit dependencies the kernel's wheel does not require: the bundle's kit wheel moves them to the extra "
        "`host`, so the kernel neither ships nor upgrades them (kaggle>=2.2 needs Python 3.11). A served kernel "
        "uses the image's grpcio, protobuf, polars, pyarrow and pandas, as the competition's own "
        "kaggle_evaluation does. The competition pack adds its own (a local scorer's embedder, training libraries).",
    )
    wheels_constraints: list = _f(
        [],
        "Extra pip constraints for the packages the bundle adds or upgrades, on top of the image profile's own "
        "(the 2024 profile caps transformers and peft to its torch 2.1.2 era).",
    )


@dataclass
class InferConfig:
    """Inference kernel settings (`kit run-local`, `kit build-submission`).

    Generic: every kit kernel runs a recipe under the time guard, on a base model with an optional adapter, in
    batches over one or more workers; a pack subclasses this section to add its kernel's own knobs."""

    template: str = _f("", "Recipe (template) name the kernel runs. Empty: the pack's default.")
    budget_seconds: int = _f(DEFAULT_BUDGET_SECONDS, "Total run-time budget of the kernel in seconds (9 h).")
    margin_seconds: int = _f(DEFAULT_MARGIN_SECONDS,
                             "Safety margin kept free of generation: runtime obfuscation plus model load.")
    batch_size: int = _f(8, "Rows per generation batch (backs off automatically on out-of-memory).")
    base_model_path: str = _f("", "Local base model folder for `kit run-local`. Empty: the embedded instruct model.")
    adapter_path: str = _f("", "Local LoRA adapter folder for `kit run-local`. Empty: none.")
    workers: int = _f(0, "Generation processes, one per GPU (data parallel). 0: one per visible GPU.")


GENERIC_SECTIONS = ("competition", "kaggle", "infer")


@dataclass
class KitConfig:
    """The whole kit.toml: the generic sections, and the sections of the pack `[competition] slug` picks.

    An empty slug is the one pack installed (`kit.pack.resolve_slug`: a ConfigError listing them when there are
    several). `kaggle` and `infer` left out (None) are built from their defaults with the pack's
    `config_defaults()` on top; the pack's own sections live in `sections` and are read with `section(name)`.
    """

    competition: CompetitionConfig = field(default_factory=CompetitionConfig)
    kaggle: KaggleConfig = None  # type: ignore[assignment]
    infer: InferConfig = None  # type: ignore[assignment]
    sections: dict[str, Any] = field(default_factory=dict, metadata={"help": "The pack's sections, by name."})
    path: Path | None = field(default=None, metadata={"help": "Where this config was read from."})

    def __post_init__(self) -> None:
        from kit.pack import get_pack, resolve_slug

        if not self.competition.slug:
            self.competition = dataclasses.replace(self.competition, slug=resolve_slug(""))
        pack = get_pack(self.competition.slug)
        classes, defaults = section_classes(pack), pack.config_defaults()
        if self.kaggle is None:
            self.kaggle = _defaulted(KaggleConfig, defaults.get("kaggle"))
        if self.infer is None:
            self.infer = _defaulted(classes["infer"], defaults.get("infer"))
        elif type(self.infer) is not classes["infer"]:  # a generic section handed in: keep its values
            self.infer = _defaulted(classes["infer"], {f.name: getattr(self.infer, f.name)
                                                       for f in dataclasses.fields(self.infer)})
        given = dict(self.sections)
        self.sections = {name: given.get(name) or _defaulted(cls, defaults.get(name))
                         for name, cls in classes.items() if name not in GENERIC_SECTIONS}

    def section(self, name: str) -> Any:
        """The typed section `name`, generic or the pack's; ConfigError naming this workspace's sections when the
        competition has no such section."""
        if name in GENERIC_SECTIONS:
            return getattr(self, name)
        if name not in self.sections:
            raise ConfigError(f"no [{name}] section for competition {self.competition.slug!r} "
                              f"(its sections: {', '.join(self.section_names())})")
        return self.sections[name]

    def section_names(self) -> list[str]:
        """Every section, generic first, in kit.toml order."""
        return [*GENERIC_SECTIONS, *self.sections]

    def updated(self, **changes: Any) -> KitConfig:
        """A copy with whole sections replaced, generic or the pack's (`dataclasses.replace` knows only the
        generic ones)."""
        unknown = [name for name in changes if name not in self.section_names()]
        if unknown:
            raise ConfigError(f"unknown section(s) {unknown} (known: {', '.join(self.section_names())})")
        generic = {k: v for k, v in changes.items() if k in GENERIC_SECTIONS}
        packs = {k: v for k, v in changes.items() if k not in GENERIC_SECTIONS}
        return dataclasses.replace(self, sections={**self.sections, **packs}, **generic)

    def with_values(self, values: dict[str, dict[str, Any]], source: str) -> KitConfig:
        """A copy with `{section: {key: value}}` applied, each value checked as a kit.toml value is (`source` names
        where they came from in the one-line error): what `--set section.key=value` does."""
        known = self.section_names()
        changes = {}
        for name, keys in values.items():
            if name not in known or name == "competition":  # the slug picked the pack: it cannot change here
                raise ConfigError(f"{source}: unknown section [{name}] (known: {', '.join(known[1:])})")
            changes[name] = _section_from_dict(self.section(name), keys, f"{source} [{name}]")
        return self.updated(**changes)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (no `path`)."""
        return {name: dataclasses.asdict(self.section(name)) for name in self.section_names()}


def section_classes(pack: Any) -> dict[str, type]:
    """name -> dataclass of every section a workspace on `pack` has; a pack's `infer` must extend the generic one."""
    declared = dict(pack.config_sections())
    clash = [name for name in ("competition", "kaggle") if name in declared]
    infer = declared.pop("infer", InferConfig)
    if clash or not (isinstance(infer, type) and issubclass(infer, InferConfig)):
        raise ConfigError(f"competition pack {pack.slug!r} redefines generic sections {clash or ['infer']}",
                          hint="a pack adds sections, or extends kit.config.InferConfig as `infer`")
    return {"competition": CompetitionConfig, "kaggle": KaggleConfig, "infer": infer, **declared}


def _defaulted(cls: type, values: Any) -> Any:
    values = dict(values or {})
    unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
    if unknown:  # a pack's config_defaults naming a key the section lacks: the pack's bug, said in one line
        raise ConfigError(f"competition pack default(s) {', '.join(unknown)} are not keys of {cls.__name__}")
    return dataclasses.replace(cls(), **values)


# ---------------------------------------------------------------------------- reading


def find_config(explicit: str | os.PathLike | None = None) -> Path | None:
    """The kit.toml to read: an explicit path (flag or KIT_CONFIG) or ./kit.toml; None when neither."""
    chosen = explicit or os.environ.get("KIT_CONFIG")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}", hint="run `kit init` to create one")
        return path
    local = Path.cwd() / CONFIG_NAME
    return local if local.is_file() else None


def workspace_pack(explicit: str | os.PathLike | None = None) -> Any:
    """The pack the workspace's kit.toml picks by `[competition] slug` (without one, the one pack installed), read
    without building the whole config: the CLI needs it to list the pack's commands."""
    from kit.pack import get_pack, resolve_slug

    path = find_config(explicit)
    slug = ""
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        slug = check((data.get("competition") or {}).get("slug", slug), str, f"{path} [competition] slug")
    try:
        return get_pack(resolve_slug(slug))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}" if path else exc.message, hint=exc.hint) from None


def load_config(explicit: str | os.PathLike | None = None, competition: str = "") -> KitConfig:
    """Read and validate kit.toml; defaults everywhere when there is none. `competition` is the slug used when
    the file names none (or there is no file); without either, the one pack installed."""
    path = find_config(explicit)
    if path is None:
        return KitConfig(competition=CompetitionConfig(slug=competition))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return config_from_dict(data, source=str(path), path=path, competition=competition)


def config_from_dict(data: dict[str, Any], source: str = "config", path: Path | None = None,
                     competition: str = "") -> KitConfig:
    """Build a validated KitConfig from parsed TOML data; `[competition] slug` picks the pack and its sections
    (`competition` when the data names none; without either, the one pack installed)."""
    for name, values in data.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
    chosen = CompetitionConfig(slug=competition)
    competition = _section_from_dict(chosen, data.get("competition", {}), f"{source} [competition]")
    try:
        cfg = KitConfig(competition=competition, path=path)
    except ConfigError as exc:  # no pack for the slug, or a broken pack: name the user's file
        raise ConfigError(f"{source}: {exc.message}", hint=exc.hint) from None
    known = cfg.section_names()
    changes = {}
    for name, values in data.items():
        if name not in known:
            raise ConfigError(f"{source}: unknown section [{name}] (known: {', '.join(known)})")
        if name != "competition":
            changes[name] = _section_from_dict(cfg.section(name), values, f"{source} [{name}]")
    cfg = cfg.updated(**changes)
    check_model_sources(cfg, f"{source} [kaggle] model_sources")
    return cfg


def check_model_sources(cfg: KitConfig, where: str) -> None:
    """ConfigError naming `where` for a model source the competition pack does not declare, or a ref that is not
    text: `[kaggle] model_sources` is one table for every pack, so its keys are checked against the pack's."""
    from kit.pack import get_pack

    declared = get_pack(cfg.competition.slug).model_sources()
    for name, ref in cfg.kaggle.model_sources.items():
        if name not in declared:
            raise ConfigError(f"{where}: unknown source '{name}' (competition {cfg.competition.slug}'s sources: "
                              f"{', '.join(declared) or 'none'})")
        if not isinstance(ref, str):
            raise ConfigError(f"{where} {name}: expected a ref string, got {type(ref).__name__} {ref!r}")


def _section_from_dict(section: Any, values: dict[str, Any], where: str) -> Any:
    known = field_types(type(section))
    updates = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(known)})")
        updates[key] = check(value, known[key], f"{where} {key}")
    return dataclasses.replace(section, **updates)


def apply_settings(cfg: KitConfig, pairs: Sequence[str], flag: str = "--set") -> KitConfig:
    """`cfg` with each 'section.key=value' of `pairs` applied, for any key of any section, generic or the pack's.
    The value is read as a TOML literal (`4`, `true`, `["a", "b"]`, `"text"`); text that is no literal (a path, a
    word) is a string. Then it is checked as the same key in kit.toml would be: a malformed pair, an unknown
    section or key, or a value of the wrong type is one ConfigError line naming `flag`."""
    values: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        dotted, sep, text = pair.partition("=")
        section, dot, key = dotted.strip().partition(".")
        if not (sep and dot and section and key):
            raise ConfigError(f"{flag} {pair!r}: expected section.key=value (e.g. infer.batch_size=4)")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text  # unquoted text: TOML would need quotes, the shell makes them a chore
        values.setdefault(section, {})[key] = value
    cfg = cfg.with_values(values, flag) if values else cfg
    check_model_sources(cfg, f"{flag} kaggle.model_sources")
    return cfg


def override(section: Any, **flags: Any) -> Any:
    """Return `section` with every flag that is not None applied (CLI flags win over kit.toml)."""
    given = {k: v for k, v in flags.items() if v is not None}
    return dataclasses.replace(section, **given) if given else section


# ---------------------------------------------------------------------------- writing


def render_toml(cfg: KitConfig | None = None) -> str:
    """kit.toml text with every key and its help as a comment: the generic sections, then the pack's (a tomlkit
    document, so values are quoted by TOML's own rules)."""
    import tomlkit  # lazily: `kit --help` stays light

    from kit.pack import get_pack

    cfg = cfg or KitConfig()
    sources = get_pack(cfg.competition.slug).model_sources()
    doc = tomlkit.document()
    doc.add(tomlkit.comment("kit.toml: workspace config for `kit`. Command-line flags override these values."))
    for name in cfg.section_names():
        section = cfg.section(name)
        table = tomlkit.table()
        # The section's doc goes below its header: a comment above a header belongs to the previous table, and a
        # key set_value adds to that table would land under it.
        for line in (type(section).__doc__ or name).strip().splitlines():
            table.add(tomlkit.comment(line.strip()))
        table.add(tomlkit.nl())
        for f in dataclasses.fields(section):
            table.add(tomlkit.comment(f.metadata.get("help", "")))
            if (name, f.name) == ("kaggle", "model_sources"):  # the names this pack's recipes mount
                for source, about in sources.items() or {"(none)": "this competition's recipes mount none"}.items():
                    table.add(tomlkit.comment(f"  {source}: {about}"))
            value = getattr(section, f.name)
            # an inline table: a [kaggle.x] sub-table would end [kaggle] and strand the keys after it
            table.add(f.name, _inline(value) if isinstance(value, dict) else value)
        doc.add(name, table)
    return tomlkit.dumps(doc)


def _inline(values: dict[str, Any]) -> Any:
    import tomlkit

    table = tomlkit.inline_table()
    table.update(values)
    return table


def set_value(path: Path, section: str, key: str, value: Any) -> None:
    """Set `[section] key = value` in a kit.toml in place (tomlkit keeps comments, order and every other key);
    validates the result before writing it."""
    import tomlkit
    import tomlkit.exceptions

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    table = doc.get(section)
    if table is None:
        doc[section] = tomlkit.table()
        table = doc[section]
    elif not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    if key in table or not _plain_keys(table):
        table[key] = value
    else:
        doc = _with_key_after_last(doc, table, key, value)
    text = tomlkit.dumps(doc)
    config_from_dict(tomllib.loads(text), source=str(path))  # never leave a broken file behind
    atomic_write(path, text)


def _plain_keys(table: Any) -> list[int]:
    """Positions of `table`'s own key/value lines in its body (sub-tables excluded)."""
    import tomlkit.items

    return [i for i, (k, item) in enumerate(table.value.body)
            if k is not None and not isinstance(item, (tomlkit.items.Table, tomlkit.items.AoT))]


def _with_key_after_last(doc: Any, table: Any, key: str, value: Any) -> Any:
    """`doc` rebuilt with `key = value` right after `table`'s last key.

    tomlkit's `table[key] = value` appends after the table's trailing comments, which in a hand-written file
    usually introduce the next section. Its public API has no positional insert, so the table and the document are
    rebuilt item by item in containers marked as parsed (which keeps tomlkit from adding cosmetic blank lines): every
    other byte of the file stays as the user wrote it."""
    import tomlkit
    from tomlkit.container import Container
    from tomlkit.items import Table
    from tomlkit.toml_document import TOMLDocument

    last = _plain_keys(table)[-1]
    body = Container(parsed=True)
    for i, (k, item) in enumerate(table.value.body):
        body.append(k, item)
        if i == last:
            body.append(tomlkit.key(key), tomlkit.item(value))
    rebuilt = Table(body, table.trivia, table.is_aot_element(), table.is_super_table())
    out = TOMLDocument(parsed=True)
    for k, item in doc.body:
        out.append(k, rebuilt if item is table else item)
    return out


def init_workspace(directory: Path, username: str = "", force: bool = False, competition: str = "") -> Path:
    """Write a commented kit.toml for `competition`'s pack (empty: the one pack installed) into `directory`;
    refuse to overwrite unless `force`."""
    path = directory / CONFIG_NAME
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", hint="use --force to overwrite")
    cfg = KitConfig(competition=CompetitionConfig(slug=competition))
    cfg.kaggle.username = username
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write(path, render_toml(cfg))
    return path


# ---------------------------------------------------------------------------- state


def kit_home() -> Path:
    """Machine state root: $KIT_HOME, else the user's data dir (XDG_DATA_HOME/kit)."""
    env = os.environ.get("KIT_HOME")
    if env:
        home = Path(env)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        home = Path(base) / "kit"
    home.mkdir(parents=True, exist_ok=True)
    return home


