"""The extractive answer stage's weights: read once from ``weights.json``, as logistic models.

``bench/train.py`` writes the file (``make train``); nothing is fitted at run time.
Each model names its features, so the file reads as a table of what counts and
how much.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from assistant.answer.reader import Mix
from assistant.core.types import JsonObject

WEIGHTS = Path(__file__).with_name("weights.json")
LOOK = 8  # chunks whose sentences are candidates (the answer may cite past the k shown)


@dataclass(frozen=True)
class Logistic:
    """A logistic model on standardised, named features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float = 0.0  # decision threshold on the logit, where the model has one

    @classmethod
    def from_dict(cls, data: JsonObject) -> Logistic:
        return cls(
            tuple(data["features"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
            np.asarray(data["coef"]), float(data["intercept"]), float(data.get("threshold", 0.0)),
        )  # fmt: skip

    def logits(self, rows: list[list[float]]) -> np.ndarray:
        """The logit of every row (each row in ``features`` order)."""
        if not rows:
            return np.zeros(0)
        x = np.asarray(rows, dtype=np.float64)
        logits: np.ndarray = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return logits


def probability(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit))


@dataclass(frozen=True)
class Models:
    sentence: Logistic
    prefilter: Logistic
    span: Logistic
    second: Logistic
    no_answer: Logistic
    prefilter_keep: int
    span_kinds: frozenset[str]  # answer types that get a short answer
    reader: Mix | None = None  # how the span reader is used, when the file has one


@cache
def load(path: Path = WEIGHTS) -> Models:
    """The models of the weights file (read once per process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    models = data["models"]
    return Models(
        **{name: Logistic.from_dict(models[name]) for name in
           ("sentence", "prefilter", "span", "second", "no_answer")},
        prefilter_keep=int(models["prefilter"]["keep"]),
        span_kinds=frozenset(models["span"]["kinds"]),
        reader=Mix.from_dict(data["reader"]) if "reader" in data else None,
    )  # fmt: skip
