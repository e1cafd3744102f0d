"""The span reader: its small weights file, laid over the shipped int8 model, points at answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.model import WEIGHTS, load
from assistant.answer.reader import READER, Reader, fitted_name, reread

LINES = (Path(__file__).resolve().parent.parent / "seeds").glob("*.txt")
SEEDS = next(LINES).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


@pytest.mark.fast
def test_the_weights_file_is_small_and_holds_only_biases_layer_norms_and_the_head() -> None:
    assert READER.stat().st_size < 100_000
    with np.load(READER) as z:
        names = set(z.files)
        note = json.loads(str(z["note"]))
        assert z["head.weight"].shape == (2, 384)
    assert note["trained_on"] == "train-v2.0-sample.json" and note["held_out_articles"] == []
    encoder = names - {"head.weight", "head.bias", "note"}
    assert encoder and all(fitted_name(n) for n in encoder)


@pytest.mark.fast
def test_reread_mixes_the_reader_into_the_ranker_and_puts_unread_sentences_last() -> None:
    scores = [2.0, 1.0, 0.5, 3.0]
    spans = [(1.0, 0, 5), (6.0, 0, 5), (2.0, 0, 5), None]
    assert reread(scores, spans, 0.0)[:3] == scores[:3]
    mixed = reread(scores, spans, 1.0)
    assert int(np.argmax(mixed)) == 1  # the reader's span wins over the ranker's lead
    assert mixed[3] < min(mixed[:3])  # not read: after every read sentence


def test_the_reader_points_at_the_answer_words_in_a_seed_line(reader: Reader) -> None:
    train_line = next(line for line in SEEDS if line.startswith("A luxury armored train"))
    gifts_line = next(line for line in SEEDS if "exchanged rifles" in line)
    travel, gifts = reader.read(
        "How did Kim Jong Un travel to Vladivostok?", [train_line, gifts_line]
    )
    best = travel.best()
    assert best is not None and "train" in train_line[best[1] : best[2]].lower()
    asked = reader.read("What did Putin and Kim exchange as gifts?", [gifts_line])[0].best()
    assert asked is not None and "rifles" in gifts_line[asked[1] : asked[2]]
    # the best span of the unrelated line scores below the answer's
    other = gifts.best()
    assert other is not None and other[0] < best[0]


def test_every_kind_of_fitted_tensor_takes_effect_on_the_onnx_model(
    reader: Reader, tmp_path: Path
) -> None:
    """ONNX Runtime silently ignores an override whose name its optimised graph lacks."""
    with np.load(READER) as z:
        arrays = {n: z[n] for n in z.files}
    kinds = {re.sub(r"layer\.\d\.", "layer.N.", n): n for n in sorted(arrays) if fitted_name(n)}
    line = next(line for line in SEEDS if "exchanged rifles" in line)
    before = reader.read("What did they exchange?", [line])[0]
    rng = np.random.default_rng(0)
    for name in kinds.values():
        changed = dict(arrays)
        # random, not constant: a constant shift of a bias is mostly undone by the next LayerNorm
        noise = rng.normal(0.0, 0.5, arrays[name].shape)
        changed[name] = (arrays[name].astype(np.float32) + noise).astype(arrays[name].dtype)
        np.savez(tmp_path / "changed.npz", **changed)
        after = Reader(tmp_path / "changed.npz").read("What did they exchange?", [line])[0]
        assert np.abs(before.start - after.start).max() > 0.05, name


@pytest.mark.fast
def test_the_weights_file_says_how_the_reader_is_used_and_why() -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))["reader"]
    top1 = {float(w): share for w, share in data["calibration"]["top1_by_weight"].items()}
    assert top1[data["weight"]] == max(top1.values())  # the weight that ranked best, held out
    assert top1[data["weight"]] > top1[0.0]  # and it beats the ranker alone
    mix = load().reader
    assert mix is not None and mix.read >= 1 and mix.weight == data["weight"]
    calibration = data["calibration"]
    if data["null_margin"] is None:  # the margin is kept only if it refuses impossible questions
        assert calibration["impossible_refused"] <= calibration["answerable_refused"]
