"""The kit's own few-shot conversation: instruction, fixed acknowledgement and short worked examples.

Every example below was written for the kit (none is copied from the seed notebooks or the competition).
They are short on purpose: five examples cost a few hundred tokens of prefix per row, not thousands.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One worked example: the original, its rewrite and the instruction that produced it."""

    original: str
    rewritten: str
    prompt: str


INSTRUCTION = (
    "I will show you an original text and then a re-written version of it. Reply with the one-sentence "
    "instruction that was given to rewrite the original, without repeating names or details from the text."
)
ORIGINAL_PREFIX = "Original Text: "
REWRITTEN_PREFIX = "Re-written Text: "
ACK = (
    "Understood. Show me the re-written text and I will reply with the single instruction that turned the "
    "original into it."
)
ANSWER_MARKER = "The request was: "

EXAMPLES: tuple[Example, ...] = (
    Example(
        original="The meeting is moved to Thursday at 3 pm. Please bring the budget figures.",
        rewritten=(
            "Hear ye, hear ye! The gathering hath been moved unto Thursday at the third hour past noon. "
            "Bring thee the reckoning of the budget!"
        ),
        prompt="Improve this text by making it sound like a medieval town crier.",
    ),
    Example(
        original="Our new coffee maker brews a full pot in four minutes and keeps it hot for two hours.",
        rewritten=(
            "Mornings just got easier: a full pot in four minutes, and hot coffee waiting for you for two "
            "whole hours."
        ),
        prompt="Rewrite this text as a short, punchy advertisement.",
    ),
    Example(
        original="I fixed the bug in the login page, but the tests still fail on the old browser.",
        rewritten=(
            "Dear Ms. Alvarez, I am pleased to report that the defect on the login page has been resolved. "
            "However, the automated tests continue to fail on the legacy browser. Kind regards."
        ),
        prompt="Make this text a formal email to a manager.",
    ),
    Example(
        original="The river flooded the village after three days of rain.",
        rewritten="Three days the rain came pouring down, the river rose and drowned the town.",
        prompt="Turn this text into a rhyming couplet.",
    ),
    Example(
        original="Plants use sunlight to turn water and carbon dioxide into sugar and oxygen.",
        rewritten=(
            "Plants are like little chefs! They take sunshine, water and air, cook them into sugary food, "
            "and breathe out fresh air for us."
        ),
        prompt="Explain this text so that a five-year-old child can understand it.",
    ),
)
