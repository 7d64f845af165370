"""The competition seam: what a competition pack provides, and the registry that finds packs.

Generic code (build-submission, submit, run-local, history, demo, config, cli, the emulator) talks to a competition
only through the `Pack` protocol below and never imports a pack's modules. A pack is found by its competition slug
(`[competition] slug` in kit.toml) among the objects registered under the `kit.packs` entry-point group, the way
papermill finds engines and llm finds plugins: a second competition is a sibling package, not a fork.

How a kernel delivers its predictions differs between code competitions; a pack names its submission mechanism
in its `SubmissionSpec`, and `kit.mechanisms.registry` finds it (kit/mechanisms/base.py says what one does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kit.errors import ConfigError

ENTRY_POINT_GROUP = "kit.packs"


@dataclass(frozen=True)
class Recipe:
    """A named way to fill the kernel (a prompt template, a model recipe): what generic code needs to know of it."""

    name: str
    help: str = ""
    needs_model: bool = False  # the kernel mounts the base model (and the adapter, when one is pushed)
    model_sources: tuple[str, ...] = ()  # further model sources the kernel mounts, by a name the pack declares


@dataclass(frozen=True)
class SubmissionSpec:
    """What Kaggle scores: the mechanism that produces it, the file name and its columns (the id column first)."""

    columns: tuple[str, ...]
    file_name: str = "submission.csv"
    mechanism: str = "file"
    # The mechanism's settings for this competition (inference_server: `gateway_module`, `gateway_spec`).
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.columns) < 2:
            raise ValueError("a submission has an id column and at least one value column")


@dataclass(frozen=True)
class KernelSpec:
    """The pack's inference kernel: its notebook and the parameters it takes (defined once, as a dataclass).

    `params` fields are made with `kit.kernel.params.param` and validate themselves in `__post_init__`. Generic
    code fills `sources` (a dict field every kernel has: attached source name -> ref, the competition's under
    "competition"), the field `recipe_param` names (with the recipe's name) and, for `kit run-local --rows`, `rows`;
    every other field comes from the kit.toml key its `config` metadata names, or keeps its default."""

    notebook: Path
    params: type  # a dataclass whose fields (with help text) are the notebook's parameters cell
    hidden_rows: int  # the hidden test set's expected size, for run-time projections
    labels_file: str = "test_labels.csv"  # the local mini-competition's answers: never mounted in a kernel
    recipe_param: str = "template"  # the parameter that takes the recipe's name ("": the kernel takes none)


@runtime_checkable
class EmulatorView(Protocol):
    """A competition as the sandbox emulator serves it: its files, its mechanism, its public/private scorer."""

    slug: str
    submission_file: str
    mechanism: str  # a name in kit.mechanisms.registry: how a scoring re-run produces the file to score

    def mount(self, dest: Path, hidden: bool) -> Path:
        """Write the competition folder a kernel sees into `dest`: the public test set, or the hidden one on a
        scoring re-run; the labels never."""

    def score(self, submission: Path) -> dict[str, float]:
        """{'public': ..., 'private': ...} for a submission file."""


@runtime_checkable
class Pack(Protocol):
    """One competition, as generic code sees it."""

    slug: str
    title: str
    submission: SubmissionSpec
    kernel: KernelSpec

    def recipes(self) -> Mapping[str, Recipe]:
        """Every recipe (template) the kernel accepts, by name."""

    def check_data(self, folder: Path) -> int:
        """InputError naming the user's own file unless `folder` holds the competition's test data (and the labels
        when present) in the competition's layout; returns the test row count."""

    def mini_competition(self) -> Path:
        """The local mini-competition folder: the kernel's test data plus `kernel.labels_file`."""

    def score(self, submission: Path, labels: Path, **options: Any) -> dict[str, Any]:
        """The local metric over the ids `submission` holds: at least mean, ci_low, ci_high, n; optionally a
        human `note` and the `scorer` (the model that scored, when the metric uses one; the ledger records it).
        Option generic callers pass: `config` (the caller's KitConfig: the pack's scoring settings live in its own
        sections, which `--set` reaches)."""

    def row_scores(self, submission: Path, labels: Path, **options: Any) -> dict[str, float]:
        """Optional (`PackDefaults` offers none): the metric per row, {id: score} over the ids `submission`
        holds, whose mean is `score`'s mean for the same files and options; `kit compare` pairs runs with it."""

    def emulator(self) -> EmulatorView:
        """The sandbox emulator's view of the competition (optionally with a `seed_leaderboard`)."""

    def commands(self) -> Mapping[str, tuple[str, str]]:
        """CLI commands the pack adds: name -> (module with a click `command`, one-line help)."""

    def config_sections(self) -> Mapping[str, type]:
        """kit.toml sections the pack adds: name -> dataclass (fields with help text). The generic section
        `infer` may be replaced by a subclass of `kit.config.InferConfig` that adds the kernel's own knobs."""

    def config_defaults(self) -> Mapping[str, Mapping[str, Any]]:
        """The pack's defaults for keys of generic sections: section -> key -> value (e.g. the kernel's slug)."""

    def model_sources(self) -> Mapping[str, str]:
        """Every further model source its recipes mount (`Recipe.model_sources`): name -> one-line help. A
        workspace sets each one's ref under that name in `[kaggle] model_sources`."""

    def adapter_fields(self) -> type | None:
        """The dataclass of what its adapters record beyond the generic `kit.artefacts.AdapterInfo` (None: nothing):
        kit_adapter.json names the pack (`pack`), which picks this class to read the rest, as peft picks a config
        class by `peft_type`. An `Artefact` subclass gets its fields type-checked."""

    def demo_config(self, cfg: Any, model: str) -> Any:
        """`kit demo`'s config: `cfg` (a KitConfig) with the pack's own sections tuned for a short CPU run on
        `model` ('' for the embedded instruct model). Generic knobs are the demo's business."""

    def demo_rehearsal(self, work: Path) -> Path | None:
        """The competition folder `kit demo` rehearses the kernel on with run-local before it builds (written
        under `work`, a few rows of the mini-competition), or None for no rehearsal step."""

    def sandbox_settings(self, cfg: Any) -> Mapping[str, Any]:
        """Sandbox emulator settings (`kit.kaggle.emulator.state.DEFAULTS` keys) this workspace's config (`cfg`, a
        KitConfig) asks for, applied whenever a sandbox client starts: e.g. `hidden_rows`, the rehearsal knob that
        serves fewer hidden rows on a scoring re-run. {} leaves the emulator's own."""

    # Whether `train_adapter` trains anything: `kit demo` trains an adapter for a recipe that loads a model only
    # when the pack trains one (a pack that wins by inference alone, like AIMO, mounts the base model as it is).
    trains: bool

    def train_adapter(self, cfg: Any, out: Path, steps: int) -> dict[str, Any]:
        """Train a small adapter into `out` for `kit demo` (recipes with `needs_model`, packs that `trains`);
        returns its metadata, whose optional `val_score.examples` ({prediction, label}) the demo shows."""


class PackDefaults:
    """The base of a pack class: the optional hooks, answered from the tables a pack sets (commands, kit.toml
    sections, defaults, model sources) or with "nothing of its own"."""

    # name -> (module with a click `command`, one-line help): the help lives in the table so `kit --help` imports
    # no command module
    command_table: Mapping[str, tuple[str, str]] = {}
    section_table: Mapping[str, type] = {}  # kit.toml section name -> dataclass (light modules: no torch)
    default_table: Mapping[str, Mapping[str, Any]] = {}  # section -> {key: value} over the generic defaults
    model_source_table: Mapping[str, str] = {}  # source name -> help, besides the base model
    # the recipe the pack's measurements recommend, with the figure and the command behind it: the line `kit demo`
    # ends with ("" for none)
    advice = ""

    def commands(self) -> Mapping[str, tuple[str, str]]:
        """The pack's own commands."""
        return self.command_table

    def config_sections(self) -> Mapping[str, type]:
        """The pack's kit.toml sections."""
        return self.section_table

    def config_defaults(self) -> Mapping[str, Mapping[str, Any]]:
        """The pack's values for generic keys."""
        return self.default_table

    def model_sources(self) -> Mapping[str, str]:
        """Model sources the kernel mounts besides the base model."""
        return self.model_source_table

    def adapter_fields(self) -> type | None:
        """Its adapters record only the generic fields."""
        return None

    def demo_config(self, cfg: Any, model: str) -> Any:
        """Nothing to tune."""
        return cfg

    def demo_rehearsal(self, work: Path) -> Path | None:
        """No run-local step in the demo."""
        return None

    def sandbox_settings(self, cfg: Any) -> Mapping[str, Any]:
        """The sandbox's own settings."""
        return {}

    trains = False  # nothing to train: `kit demo` mounts the base model as it is

    def train_adapter(self, cfg: Any, out: Path, steps: int) -> dict[str, Any]:
        """Packs whose recipes need no model train nothing."""
        raise ConfigError(f"the {getattr(self, 'slug', '?')} pack trains no adapter")

    def row_scores(self, submission: Path, labels: Path, **options: Any) -> dict[str, float]:
        """A metric that is not a mean over rows (or a pack that does not say) cannot be paired row by row."""
        raise ConfigError(f"the {getattr(self, 'slug', '?')} pack offers no per-row scores, so its runs cannot be "
                          f"compared row by row", hint="the pack's `row_scores` hook gives them")


_PACKS: dict[str, Pack] = {}  # registered in-process (an installed pack comes from its entry point instead)


def register(pack: Pack) -> Pack:
    """Register a pack object in this process (tests, notebooks); installed packs use the entry-point group."""
    _PACKS[pack.slug] = pack
    return pack


def available() -> dict[str, Any]:
    """slug -> entry point or pack object, for every pack this environment offers."""
    found: dict[str, Any] = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found.update(_PACKS)
    return found


def get_recipe(pack: Pack, name: str) -> Recipe:
    """The pack's recipe (template) `name`; ConfigError listing the known ones otherwise."""
    recipes = pack.recipes()
    if not name:
        raise ConfigError(f"no template chosen for {pack.slug} (the pack sets no default)",
                          hint=f"set [infer] template in kit.toml or pass --template: {', '.join(sorted(recipes))}")
    if name not in recipes:
        raise ConfigError(f"unknown template '{name}' for {pack.slug}",
                          hint=f"known templates: {', '.join(sorted(recipes))}")
    return recipes[name]


def resolve_slug(slug: str) -> str:
    """`slug`, or when it is empty the one pack installed: no pack is the kit's default, so with several installed
    the workspace must choose (ConfigError listing them)."""
    if slug:
        return slug
    found = sorted(available())
    if len(found) == 1:
        return found[0]
    raise ConfigError(f"no competition chosen: {len(found) or 'no'} competition packs are installed"
                      f"{' (' + ', '.join(found) + ')' if found else ''}",
                      hint="set [competition] slug in kit.toml, or run `kit init --competition SLUG`")


def get_pack(slug: str) -> Pack:
    """The pack serving competition `slug`; ConfigError naming the installed packs when there is none."""
    if slug in _PACKS:  # loaded or registered already: no entry-point scan (every KitConfig asks)
        return _PACKS[slug]
    found = available()
    if slug not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"no competition pack for [competition] slug {slug!r} (installed: {known})",
                          hint=f"install a package registering one under the '{ENTRY_POINT_GROUP}' entry points")
    obj = found[slug]
    if not isinstance(obj, Pack):
        try:
            obj = obj.load()
            obj = obj() if isinstance(obj, type) or (callable(obj) and not isinstance(obj, Pack)) else obj
        except Exception as exc:  # a broken third-party pack: one line naming it, not a traceback
            raise ConfigError(f"competition pack {slug!r} ({obj.value}) failed to load: {exc}") from None
        if getattr(obj, "slug", None) != slug:
            raise ConfigError(f"the pack registered as {slug!r} serves {getattr(obj, 'slug', None)!r}",
                              hint=f"fix the '{ENTRY_POINT_GROUP}' entry point of the package that provides it")
        _PACKS[slug] = obj
    return obj


@dataclass(frozen=True)
class PackInfo:
    """One installed pack as `kit packs` lists it, or the one line that loading it gave (`error`)."""

    slug: str
    title: str = ""
    mechanism: str = ""
    commands: tuple[str, ...] = ()  # the CLI commands it adds
    recipes: tuple[str, ...] = ()  # what --template may name
    error: str = ""


def installed_packs() -> list[PackInfo]:
    """Every pack this environment offers, by slug; a pack that fails to load is listed with its error, not
    raised, so the listing still shows the others."""
    infos = []
    for slug in sorted(available()):
        try:
            pack = get_pack(slug)
            infos.append(PackInfo(slug, pack.title, pack.submission.mechanism, tuple(pack.commands()),
                                  tuple(pack.recipes())))
        except ConfigError as exc:
            infos.append(PackInfo(slug, error=str(exc)))
        except Exception as exc:  # noqa: BLE001 - a third-party pack missing part of the protocol: list it broken
            infos.append(PackInfo(slug, error=f"{type(exc).__name__}: {exc}"))
    return infos
