"""Templates: registry, chat rendering on the tiny model, post-processing, assembly and the 128-token cap."""

from __future__ import annotations

import pytest

from kit.errors import ConfigError
from kit.packs.prompt_recovery import postprocess as pp
from kit.packs.prompt_recovery.templates import (
    DEFAULT_MEAN_PROMPT,
    LUCRAREA_SUFFIX,
    estimate_t5_tokens,
    get_template,
    list_templates,
    truncate_tokens,
)


@pytest.fixture(scope="module")
def tok(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def test_registry_lists_the_three_core_templates():
    names = [t.name for t in list_templates()]
    assert names[:3] == ["mean", "fewshot", "best"]
    assert all(t.summary and "\n" not in t.summary for t in list_templates())
    assert get_template("mean").primes == ()
    assert len(get_template("best").primes) >= 3


def test_unknown_template_names_the_known_ones():
    with pytest.raises(ConfigError, match="unknown template 'nope'.*best, fewshot, mean"):
        get_template("nope")


@pytest.fixture(scope="module", params=["tiny-mistral-inst", "smollm2-chatml"])
def any_tok(request):
    """Both chat-template families the kit ships: the tiny model's Mistral [INST] and SmolLM2's ChatML."""
    from transformers import AutoTokenizer

    folder = request.getfixturevalue("tiny_model" if request.param.startswith("tiny") else "instruct_model")
    return AutoTokenizer.from_pretrained(folder)


@pytest.mark.parametrize("name", ["fewshot", "best", "zeroshot"])
def test_rendered_prompt_token_boundaries_with_any_chat_template(any_tok, name):
    from kit.packs.prompt_recovery import fewshot

    tok, template = any_tok, get_template(name)
    opening = tok(tok.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False),
                  add_special_tokens=False)["input_ids"][0]
    for prime in template.primes + ("",):
        text = template.render_prompt(tok, "The cat sat on the mat.", "The feline rested upon the rug.", prime)
        # no prime: the marker's space belongs to the model's first token, as in training (split_tokens)
        assert text.endswith("The request was: " + prime if prime else "The request was:")
        ids = tok(text, add_special_tokens=False)["input_ids"]
        # the chat template's own opening token (Mistral's BOS, ChatML's <|im_start|>), written once, not doubled
        assert ids[0] == opening and ids[1] != opening
        # no end-of-turn between the final assistant header and generation: the prefill stays open
        last_eos = max(i for i, t in enumerate(ids) if t == tok.eos_token_id)
        tail = tok.decode(ids[last_eos + 1:])
        assert tail.endswith("The request was: " + prime if prime else "The request was:")
        assert ids[-1] != tok.eos_token_id
        # every few-shot answer is closed by the model's own end-of-turn token, as the chat template writes it
        for ex in template.examples:
            assert f"The request was: {ex.prompt}{tok.eos_token}" in text
        # the kit's instruction opens the first user turn (a ChatML default system turn, if any, comes before it)
        assert text.count(fewshot.INSTRUCTION) == 1


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_fields_are_truncated_by_tokens_and_the_instruction_is_kept(tok):
    template = get_template("fewshot")
    long_original = "alpha beta gamma delta " * 200
    text = template.render_prompt(tok, long_original, "short rewrite", "Improve this text by", max_field_tokens=8)
    assert "Original Text: " + long_original not in text
    kept = text.split("Original Text: ")[-1].split(" [/INST]")[0]
    assert len(tok(kept, add_special_tokens=False)["input_ids"]) <= 8
    assert long_original.startswith(kept)
    assert "Reply with the one-sentence instruction" in text
    assert "Re-written Text: short rewrite" in text


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_truncate_tokens_keeps_short_text_untouched(tok):
    assert truncate_tokens(tok, "Hello there.", 50) == "Hello there."
    assert truncate_tokens(tok, "Hello there friend of mine.", 0) == ""


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_mean_template_has_no_prompt_to_render(tok):
    with pytest.raises(ConfigError, match="uses no model"):
        get_template("mean").render_prompt(tok, "a", "b")


@pytest.mark.parametrize(
    "generated, prime, expected",
    [
        (" making it sound like a pirate. Then more text", "Improve this text by",
         "Improve this text by making it sound like a pirate."),
        ("making it formal", "Improve this text by", "Improve this text by making it formal."),
        (' "Rewrite this as a haiku about spring."\nSecond line', "", "Rewrite this as a haiku about spring."),
        ("1. Convert this essay into a sea shanty\n2. other", "", "Convert this essay into a sea shanty."),
        ("**Make this text** more *cheerful* and upbeat</s>", "", "Make this text more cheerful and upbeat."),
        ("The request was: Turn this text into a limerick.", "Improve this text by",
         "Turn this text into a limerick."),
        ("[/INST] The request was: Rewrite it as a letter from Dr. Watson to a friend.", "",
         "Rewrite it as a letter from Dr. Watson to a friend."),
        ("\n\n- Rewrite this text in a gloomy tone!", "", "Rewrite this text in a gloomy tone!"),
    ],
)
def test_clean_candidate(generated, prime, expected):
    assert pp.clean_candidate(generated, prime) == expected


@pytest.mark.parametrize("generated", ["", "   ", "Hi.", "Rewrite it.", "</s>", "\n\n", "word " * 51])
def test_clean_candidate_rejects_short_or_long(generated):
    assert pp.clean_candidate(generated, "") is None


def test_postprocess_identity_rule_and_fallback():
    best = get_template("best")
    assert best.postprocess("anything at all here", "Rewrite", "Same text.", " Same text. ") == pp.IDENTITY_PROMPT
    assert best.postprocess("", "Rewrite", "a", "b") is None
    fewshot = get_template("fewshot")
    assert fewshot.assemble([None], "a", "b") == fewshot.fallback("a", "b")
    assert fewshot.assemble(["Make this text funny."], "a", "b") == "Make this text funny."


def test_mean_template_output():
    mean = get_template("mean")
    out = mean.assemble([], "a", "b")
    assert out == DEFAULT_MEAN_PROMPT + LUCRAREA_SUFFIX
    assert mean.assemble(["ignored candidate"], "a", "b", mean_prompt="Rewrite this text.") == (
        "Rewrite this text." + LUCRAREA_SUFFIX)
    assert mean.fallback("x", "x").startswith(pp.IDENTITY_PROMPT)


def test_best_concatenates_dedupes_then_mean_then_suffix():
    best = get_template("best")
    out = best.assemble(["Rewrite this text as a poem.", None, "Rewrite this text as a poem.", "Make this text funny."],
                        "a", "b", mean_prompt="Improve the text to this.")
    assert out == ("Rewrite this text as a poem. Make this text funny. Improve the text to this." + LUCRAREA_SUFFIX)
    assert best.assemble([None, None, None], "a", "b") == get_template("mean").fallback("a", "b")


def test_best_stays_under_128_estimated_tokens_and_trims_candidates_not_suffix():
    best = get_template("best")
    cands = [f"Rewrite this text as an extraordinarily melodramatic soliloquy number {i} " * 3 for i in range(3)]
    out = best.assemble(cands, "a", "b")
    assert estimate_t5_tokens(out) <= 127
    assert out.endswith(LUCRAREA_SUFFIX) and DEFAULT_MEAN_PROMPT in out
    assert out.startswith("Rewrite this text as an extraordinarily")
    # an absurdly long mean prompt is cut from its tail; the suffix survives
    out = best.assemble([], "a", "b", mean_prompt="improve " * 400)
    assert out.endswith(LUCRAREA_SUFFIX) and estimate_t5_tokens(out) <= 127


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_best_uses_an_exact_token_counter_when_given(tok):
    count = lambda text: len(tok(text, add_special_tokens=True)["input_ids"]) + 1  # noqa: E731
    best = get_template("best").with_token_counter(count)
    cands = ["Rewrite this text in the style of a pirate captain shouting at his crew on deck."] * 1 + [
        f"Make this text sound like variant {i} of a cheerful morning radio host." for i in range(6)]
    out = best.assemble(cands, "a", "b")
    assert count(out) <= 127 and out.endswith(LUCRAREA_SUFFIX)
    assert get_template("best").token_counter is None  # the registry entry is untouched


def test_estimate_overcounts_plain_english_and_counts_lucrarea_once():
    assert estimate_t5_tokens("lucrarea" * 8) == 9
    assert estimate_t5_tokens("Improve this text.") >= 4
    assert estimate_t5_tokens(LUCRAREA_SUFFIX) < 30


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_tokenizer_folder_counter_reads_special_strings_as_text(tiny_model):
    from kit.packs.prompt_recovery.templates import t5_token_counter

    count = t5_token_counter(tiny_model)
    assert count("</s>") > 2  # literal characters, as the host's TF tokenizer saw them, plus the added BOS
    best = get_template("best").with_token_counter(tiny_model)
    out = best.assemble(["Rewrite this text as a long pirate shanty about the sea and the wind. " * 4], "a", "b")
    assert count(out) <= 127 and out.endswith(LUCRAREA_SUFFIX)


_ADVERSARIAL = [
    "Rewrite\x00 this text as a\x07 pirate\x1b[31m shanty.",
    "Make this \ufffdtext sound\ufffd\ufffd cheerful and bright.",
    "\ufeffTurn this\u200b text into a\u202e haiku\u2066 about rain.",
    "Rewrite this\ttext\x0bin a\x0cformal\x85tone\u2028please.",
    "Convert \ud800this text into a \ue000limerick\U000f0000 today.",
    "\x9b Improve this text by making it \x7fsound like a robot.",
    "<|im_start|>assistant\nRewrite this text as a news headline.<|im_end|>",
]


@pytest.mark.parametrize("generated", _ADVERSARIAL)
def test_no_control_character_or_replacement_character_reaches_a_submission(generated):
    import unicodedata

    def clean(text: str) -> bool:
        return text.isprintable() and "\ufffd" not in text and not any(
            unicodedata.category(ch).startswith("C") for ch in text)

    candidate = pp.clean_candidate(generated, "")
    assert candidate is not None and clean(candidate), repr(candidate)
    for name in ("fewshot", "best"):
        assert clean(get_template(name).assemble([candidate, pp.clean_candidate(generated, "Rewrite")], "a", "b"))
    assert pp.strip_controls("a\x00b\nc\td\ufffd", keep_newlines=True) == "ab\nc d"
