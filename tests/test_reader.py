"""The span reader: its small weights file, laid over the shipped int8 model, points at answers."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.model import WEIGHTS, load
from assistant.answer.reader import (
    LORA_A,
    LORA_B,
    READER,
    SCALE,
    Reader,
    Weights,
    compiled,
    fitted_name,
    reread,
)
from assistant.core.errors import OfflineAssetError

LINES = (Path(__file__).resolve().parent.parent / "seeds").glob("*.txt")
SEEDS = next(LINES).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


@pytest.mark.fast
def test_the_weights_file_is_small_and_holds_only_biases_layer_norms_scales_and_the_head() -> None:
    assert READER.stat().st_size < 100_000
    weights = Weights.load()
    assert weights.head_weight.shape == (2, 384) and weights.head_bias.shape == (2,)
    assert weights.note["trained_on"] == "train-v2.0-sample.json"
    assert weights.note["held_out_articles"] == []
    assert weights.tensors and all(fitted_name(n) for n in weights.tensors)
    scales = [n for n in weights.tensors if n.endswith(SCALE)]
    assert len(scales) == 36  # every weight matrix of the 6 layers


@pytest.mark.fast
def test_reread_mixes_the_reader_into_the_ranker_and_puts_unread_sentences_last() -> None:
    scores = [2.0, 1.0, 0.5, 3.0]
    spans = [(1.0, 0, 5), (6.0, 0, 5), (2.0, 0, 5), None]
    assert reread(scores, spans, 0.0)[:3] == scores[:3]
    mixed = reread(scores, spans, 1.0)
    assert int(np.argmax(mixed)) == 1  # the reader's span wins over the ranker's lead
    assert mixed[3] < min(mixed[:3])  # not read: after every read sentence
    # a reader unsure of every span (best 6.0 below the gate) leaves the ranker's order
    gated = reread(scores, spans, 1.0, gate=7.0)
    assert int(np.argmax(gated[:3])) == 0 and gated[:3] == reread(scores, spans, 0.0)[:3]
    assert int(np.argmax(reread(scores, spans, 1.0, gate=5.0))) == 1  # sure enough: it counts


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
    """Each kind of fitted tensor changes what the reader reads when it changes."""
    weights = Weights.load()
    kinds = {re.sub(r"layer\.\d\.", "layer.N.", n): n for n in sorted(weights.tensors)}
    assert any(k.endswith(SCALE) for k in kinds) and any(k.endswith(".bias") for k in kinds)
    line = next(line for line in SEEDS if "exchanged rifles" in line)
    before = reader.read("What did they exchange?", [line])[0]
    rng = np.random.default_rng(0)
    for name in kinds.values():
        # random, not constant: a constant shift of a bias is mostly undone by the next LayerNorm
        noise = rng.normal(0.0, 0.5, weights.tensors[name].shape)
        changed = replace(weights, tensors={**weights.tensors, name: weights.tensors[name] + noise})
        changed.save(tmp_path / "changed.npz")
        after = Reader(tmp_path / "changed.npz").read("What did they exchange?", [line])[0]
        assert np.abs(before.start - after.start).max() > 0.05, name


def test_a_weights_file_made_for_another_model_is_refused_with_a_clear_message(
    tmp_path: Path,
) -> None:
    weights = Weights.load()
    extra = np.ones(384, dtype=np.float32)
    stray = replace(
        weights, tensors={**weights.tensors, "encoder.layer.9.output.dense.bias": extra}
    )
    stray.save(tmp_path / "other.npz")
    with pytest.raises(OfflineAssetError, match=r"encoder\.layer\.9\.output\.dense\.bias"):
        Reader(tmp_path / "other.npz")


@pytest.mark.fast
def test_the_weights_file_says_how_the_reader_is_used_and_why() -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))["reader"]
    top1 = {float(w): share for w, share in data["calibration"]["top1_by_weight"].items()}
    assert top1[data["weight"]] == max(top1.values())  # the weight that ranked best, held out
    assert top1[data["weight"]] > top1[0.0]  # and it beats the ranker alone
    mix = load().reader
    assert mix is not None and mix.read >= 1 and mix.weight == data["weight"]
    by_gate = data["calibration"]["best_by_gate"]  # the gate that ranked best, held out
    assert by_gate[str(data["gate"])] == max(by_gate.values()) and mix.gate == data["gate"]
    calibration = data["calibration"]
    if data["null_margin"] is None:  # the margin is kept only if it refuses impossible questions
        assert calibration["impossible_refused"] <= calibration["answerable_refused"]


def test_a_low_rank_update_is_quantised_into_the_int8_matrix(
    reader: Reader, tmp_path: Path
) -> None:
    """Files from ``train_reader.py --lora``: a zero update reads as the shipped reader does,
    a fitted one changes the reading, and an update without its other half is refused."""
    weights = Weights.load()
    rng = np.random.default_rng(0)
    halves: dict[str, np.ndarray] = {}
    for name, scale in weights.tensors.items():
        if name.endswith(SCALE):
            base = name.removesuffix(SCALE)
            feed_forward_out = base.endswith(".output.dense") and ".attention." not in base
            width = 1536 if feed_forward_out else 384  # the matrix's input size
            halves[base + LORA_A] = rng.normal(0.0, 0.05, (2, width)).astype(np.float32)
            halves[base + LORA_B] = np.zeros((scale.shape[0], 2), np.float32)
    line = next(line for line in SEEDS if "exchanged rifles" in line)
    shipped = reader.read("What did they exchange?", [line])[0]
    replace(weights, tensors={**weights.tensors, **halves}).save(tmp_path / "zero.npz")
    zero = Reader(tmp_path / "zero.npz").read("What did they exchange?", [line])[0]
    assert np.abs(zero.start - shipped.start).max() < 1e-3
    assert np.abs(zero.end - shipped.end).max() < 1e-3
    fitted = {n: rng.normal(0.0, 0.05, t.shape).astype(np.float32) if n.endswith(LORA_B) else t
              for n, t in halves.items()}  # fmt: skip
    replace(weights, tensors={**weights.tensors, **fitted}).save(tmp_path / "update.npz")
    update = Reader(tmp_path / "update.npz").read("What did they exchange?", [line])[0]
    assert np.abs(update.start - shipped.start).max() > 0.05
    half = {n: t for n, t in halves.items() if n.endswith(LORA_A)}
    replace(weights, tensors={**weights.tensors, **half}).save(tmp_path / "half.npz")
    with pytest.raises(OfflineAssetError, match=r"lora_a has no place"):
        Reader(tmp_path / "half.npz")


def test_the_model_file_is_written_once_and_reads_as_the_model_built_in_memory(
    reader: Reader, tmp_path: Path
) -> None:
    """`assistant setup` keeps the reader's model as a file, so a cold ask needs no `onnx`."""
    cache = tmp_path / "cache"
    first = compiled(READER, cache)
    assert isinstance(first, str) and Path(first).parent == cache
    written = Path(first).stat().st_mtime_ns
    assert compiled(READER, cache) == first and Path(first).stat().st_mtime_ns == written
    from_file = Reader(cache_dir=cache).read("What did they exchange?", SEEDS[:2])
    in_memory = reader.read("What did they exchange?", SEEDS[:2])
    for a, b in zip(from_file, in_memory, strict=True):
        assert np.allclose(a.start, b.start) and np.allclose(a.end, b.end) and a.null == b.null


def test_a_cache_folder_that_cannot_be_written_gets_the_model_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    model = compiled(READER, blocked / "cache")
    assert isinstance(model, bytes) and len(model) > 1_000_000
