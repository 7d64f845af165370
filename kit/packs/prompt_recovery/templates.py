"""Prompt templates: a registry of data plus small pure functions.

A template says how to ask the model (chat messages + a raw assistant prefill), how to clean what it says
(`postprocess`) and how to turn a row's candidates into the submitted string (`assemble`). Adding a template
is one `_register(Template(...))` entry below.

Why the prefill is appended as raw text: Mistral-style chat templates end every assistant turn with EOS,
so rendering the prefill as an assistant message would put `</s>` right before generation (the seed's bug).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kit.errors import ConfigError
from kit.packs.prompt_recovery import fewshot
from kit.packs.prompt_recovery.postprocess import IDENTITY_PROMPT, clean_candidate, is_identity

DEFAULT_MEAN_PROMPT = (
    "Please improve this text using the writing style with maintaining the original meaning but altering the tone."
)
# The 1st-place adversarial suffix: `lucrarea` sits next to `</s>` in sentence-t5's token space and pulls
# every score toward ~0.7, which raises the many weak rows more than it lowers the few exact ones.
LUCRAREA_SUFFIX = " 'it 's ' something Think A Human P" + "lucrarea" * 8
# The host's TensorFlow sentence-t5 cut inputs at 128 tokens (EOS included); longer strings scored ~0.41.
HOST_MAX_TOKENS = 128
BEST_PRIMES = ("Improve this text by", "Rewrite this text", "Make this text")  # one verb each: diverse candidates
_SENTINEL = "\u2063KITPREFILL\u2063"

TokenCounter = Callable[[str], int]


def estimate_t5_tokens(text: str) -> int:
    """A deliberately high estimate of sentence-t5 tokens (EOS included) when no T5 tokenizer is at hand.

    Each `lucrarea` counts 1 (it is one T5 token); other letter runs count ceil(len/3) (T5 gives most
    English words one piece, rare ones a few), digits and punctuation 1 each, other characters 2.
    """
    count = 1  # </s>
    for piece in re.findall(r"[A-Za-z]+|\d|\S", text):
        if piece.isalpha() and piece.isascii():
            runs = piece.lower().split("lucrarea")
            count += (len(runs) - 1) + sum(math.ceil(len(r) / 3) for r in runs if r)
        elif piece.isascii():
            count += 1
        else:
            count += 2
    return count


def t5_token_counter(path: str | Path) -> TokenCounter:
    """Exact counter from a T5-style tokenizer folder (e.g. a sentence-t5-base folder), host-style:
    special-token strings are literal text and the EOS is counted."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), split_special_tokens=True)
    return lambda text: len(tok(text, add_special_tokens=True)["input_ids"])


@dataclass(frozen=True)
class Template:
    """One named way of prompting, cleaning and assembling; see the module docstring."""

    name: str
    summary: str
    primes: tuple[str, ...] = ()
    examples: tuple[fewshot.Example, ...] = ()
    assembler: str = "single"  # key of _ASSEMBLERS
    max_tokens: int = HOST_MAX_TOKENS - 1  # strictly under the host's 128-token cut
    rescore: bool = False  # rank the candidates with the rewriter (kit.packs.prompt_recovery.rescore) before assembling
    rescore_keep: int = 0  # ranked candidates kept for assembly (0: all); sentence embeddings barely see order
    # More candidates for the ranker (kit.packs.prompt_recovery.candidates): sampled continuations of the answer
    # marker (one prefill per row, `samples` sequences), and the mean prompt itself as one more candidate.
    samples: int = 0
    sample_prime: str = ""  # no prime: the model picks the opening verb, which the greedy primes fix
    sample_temperature: float = 0.8
    sample_top_p: float = 0.95
    sample_seed: int = 0
    mean_candidate: bool = False
    tuned_assembly: bool = False  # kit tune's pick decides the assembler too, not only the candidates and keep
    token_counter: TokenCounter | None = field(default=None, compare=False, repr=False)

    # -- prompting ---------------------------------------------------------------------------------
    def messages(self, original: str, rewritten: str) -> list[dict[str, str]]:
        """The chat history for one row: k examples, then the row, ending on the user's rewritten text."""
        turns: list[dict[str, str]] = []
        for ex in self.examples:
            turns += _exchange(ex.original, ex.rewritten) + [
                {"role": "assistant", "content": fewshot.ANSWER_MARKER + ex.prompt}
            ]
        turns += _exchange(original, rewritten)
        turns[0] = {"role": "user", "content": fewshot.INSTRUCTION + "\n\n" + turns[0]["content"]}
        return turns

    def render_prompt(self, tokenizer, original: str, rewritten: str, prime: str = "",
                      max_field_tokens: int | None = None) -> str:
        """Chat text ending with the raw prefill `The request was: ` + prime (never an EOS after it).

        original/rewritten are each cut to `max_field_tokens` tokens; tokenize the result with
        add_special_tokens=False (the chat template already wrote the BOS).
        """
        if not self.examples and not self.primes and self.assembler == "mean":
            raise ConfigError(f"template '{self.name}' uses no model, so it has no prompt to render")
        if max_field_tokens is not None:
            original = truncate_tokens(tokenizer, original, max_field_tokens)
            rewritten = truncate_tokens(tokenizer, rewritten, max_field_tokens)
        # Render a dummy final assistant turn and cut it at the sentinel: this keeps whatever the chat
        # template puts before assistant content (a space, a role header) and drops the EOS after it.
        turns = self.messages(original, rewritten)
        turns.append({"role": "assistant", "content": fewshot.ANSWER_MARKER + _SENTINEL})
        text = tokenizer.apply_chat_template(turns, tokenize=False)
        cut = text.rfind(_SENTINEL)
        if cut < 0:  # pragma: no cover - a template that drops assistant content
            raise ConfigError("the tokenizer's chat template dropped the assistant turn; cannot place the prefill")
        return with_prime(text[:cut], prime)

    # -- cleaning and assembly ---------------------------------------------------------------------
    def postprocess(self, generated: str, prime: str, original: str, rewritten: str) -> str | None:
        """One clean candidate sentence (prime words included) from the decoded new tokens, or None."""
        if is_identity(original, rewritten):
            return IDENTITY_PROMPT
        return clean_candidate(generated, prime, fewshot.ANSWER_MARKER)

    def assemble(self, candidates: list[str | None], original: str, rewritten: str,
                 mean_prompt: str | None = None) -> str:
        """The final submission string for one row (never empty)."""
        return _ASSEMBLERS[self.assembler](self, candidates, original, rewritten, mean_prompt or DEFAULT_MEAN_PROMPT)

    def fallback(self, original: str, rewritten: str, mean_prompt: str | None = None) -> str:
        """The string for a row without model output: the mean prompt plus suffix (identity rule first)."""
        return _assemble_mean(self, [], original, rewritten, mean_prompt or DEFAULT_MEAN_PROMPT)

    def count_tokens(self, text: str) -> int:
        """sentence-t5 tokens of `text`: exact with a token counter attached, else a high estimate."""
        return (self.token_counter or estimate_t5_tokens)(text)

    def with_token_counter(self, counter: TokenCounter | str | Path | None) -> Template:
        """A copy that counts with `counter` (a callable, or a T5 tokenizer folder such as sentence-t5-base)."""
        if counter is not None and not callable(counter):
            counter = t5_token_counter(counter)
        return dataclasses.replace(self, token_counter=counter)


def strip_suffix(text: str) -> str:
    """`text` without a trailing lucrarea suffix (the suffix helps on sentence-t5 only); unchanged otherwise."""
    body = text[: -len(LUCRAREA_SUFFIX)].strip() if text.endswith(LUCRAREA_SUFFIX) else ""
    return body or text


def with_prime(rendered: str, prime: str) -> str:
    """A prompt that ends at the answer marker (`The request was:`, trailing space or not) completed with
    `prime`. With no prime it ends at the marker without the space, so the model's first token carries the
    space (" Rewrite"), as training tokenises the answer (train_data.split_tokens)."""
    core = rendered.rstrip(" ")
    return core + " " + prime if prime else core


def _exchange(original: str, rewritten: str) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": fewshot.ORIGINAL_PREFIX + original},
        {"role": "assistant", "content": fewshot.ACK},
        {"role": "user", "content": fewshot.REWRITTEN_PREFIX + rewritten},
    ]


def truncate_tokens(tokenizer, text: str, max_tokens: int) -> str:
    """`text` cut to its first `max_tokens` tokens, cutting the original string (not a re-decode) when
    the tokenizer reports character offsets."""
    try:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        return text if len(offsets) <= max_tokens else text[: offsets[max_tokens - 1][1]] if max_tokens else ""
    except (NotImplementedError, TypeError, ValueError, KeyError):  # slow tokenizers: no offsets
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        return text if len(ids) <= max_tokens else tokenizer.decode(ids[:max_tokens], skip_special_tokens=True)


# -- assemblers: (template, candidates, original, rewritten, mean_prompt) -> str ----------------------
def _assemble_mean(t: Template, candidates, original, rewritten, mean_prompt: str) -> str:
    lead = [IDENTITY_PROMPT] if is_identity(original, rewritten) else []
    return _fit(t, lead, mean_prompt)


def _assemble_single(t: Template, candidates, original, rewritten, mean_prompt: str) -> str:
    for cand in candidates:
        if cand and cand.strip():
            return cand.strip()
    return t.fallback(original, rewritten, mean_prompt)


def _assemble_concat(t: Template, candidates, original, rewritten, mean_prompt: str) -> str:
    from kit.packs.prompt_recovery.candidates import candidate_pool, same_candidate

    # _fit always appends the mean prompt: a mean-prompt candidate among the kept ones would say it twice.
    unique = [c for c in candidate_pool(candidates) if not same_candidate(c, mean_prompt)]
    if is_identity(original, rewritten) and IDENTITY_PROMPT not in unique:
        unique.insert(0, IDENTITY_PROMPT)
    return _fit(t, unique, mean_prompt)


def _fit(t: Template, candidates: list[str], mean_prompt: str) -> str:
    """candidates + mean prompt + suffix within t.max_tokens: drop/cut candidates first, then the mean
    prompt's tail; the suffix is never touched."""
    def build(parts: list[str]) -> str:
        return " ".join(p for p in parts if p) + LUCRAREA_SUFFIX

    def fits(parts: list[str]) -> bool:
        return t.count_tokens(build(parts)) <= t.max_tokens

    mean = _longest_prefix(mean_prompt.split(), lambda words: fits([" ".join(words)]))
    kept: list[str] = []
    for cand in candidates:
        if fits(kept + [cand, mean]):
            kept.append(cand)
            continue
        words = _longest_prefix(cand.split(), lambda w: fits(kept + [" ".join(w), mean]))
        if len(words.split()) >= 3:  # a cut candidate still has to say something
            kept.append(words)
        break
    return build(kept + [mean]).strip()


def _longest_prefix(words: list[str], ok: Callable[[list[str]], bool]) -> str:
    """The longest leading run of `words` that `ok` accepts (binary search: token counts grow with length)."""
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(words[:mid]):
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


_ASSEMBLERS = {"mean": _assemble_mean, "single": _assemble_single, "concat": _assemble_concat}

_REGISTRY: dict[str, Template] = {}


def _register(template: Template) -> None:
    _REGISTRY[template.name] = template


_register(Template(
    name="mean",
    summary="No model: every row gets the mean prompt plus the lucrarea suffix (also the timing fallback).",
    assembler="mean",
))
_register(Template(
    name="fewshot",
    summary="Few-shot chat (5 kit examples), prefill 'The request was: Improve this text by', one clean sentence.",
    primes=("Improve this text by",),
    examples=fewshot.EXAMPLES,
    assembler="single",
))
_register(Template(
    name="best",
    summary="Few-shot chat with 3 primes; candidates + mean prompt + lucrarea suffix, kept under 128 T5 tokens.",
    primes=BEST_PRIMES,
    examples=fewshot.EXAMPLES,
    assembler="concat",
))
# The re-scoring templates rank more than best's three greedy candidates: RESCORE_SAMPLES sampled ones and the
# mean prompt join them (deduplicated). `kit tune` replaces these defaults with what won on training rows.
RESCORE_SAMPLES = 4
for _name, _assembler, _tuned, _summary in (
    ("rescore", "concat", False,
     "3 greedy + 4 sampled candidates and the mean prompt, ranked by the rewriter's likelihood of the observed "
     "rewrite (best first), concatenated like 'best'; unranked rows keep their generated string."),
    ("rescore-single", "single", False, "'rescore' keeping only the top-ranked candidate (no mean prompt, no suffix)."),
    ("rescore-tuned", "single", True,
     "'rescore' with kit tune's picks from training rows (candidate mix, keep, single or concat); untuned: "
     "rescore-single."),
):
    _register(Template(name=_name, summary=_summary, primes=BEST_PRIMES, examples=fewshot.EXAMPLES,
                       assembler=_assembler, rescore=True, samples=RESCORE_SAMPLES, mean_candidate=True,
                       tuned_assembly=_tuned))
_register(Template(
    name="zeroshot",
    summary="Instruction only (no examples): short sequences for LoRA training; one clean sentence.",
    primes=("Improve this text by",),
    assembler="single",
))


def get_template(name: str) -> Template:
    """The registered template called `name` (ConfigError listing the known names otherwise)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown template '{name}'", hint=f"known templates: {', '.join(sorted(_REGISTRY))}"
        ) from None


def list_templates() -> list[Template]:
    """Every registered template, in registration order."""
    return list(_REGISTRY.values())
