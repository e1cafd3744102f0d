"""The span reader: MiniLM reading the question and a passage together, pointing at the answer.

Retrieval and the sentence ranker compare a question's vector with a sentence's;
neither sees which words of the passage answer it. The reader does: the question
and the passage go through all-MiniLM-L6-v2 as one sequence (``[CLS] question
[SEP] passage [SEP]``), and a linear head gives every word piece of the passage a
start score and an end score. A span's score is its start plus its end score; the
``[CLS]`` piece's pair is the *no span* score.

Only the encoder's bias vectors and LayerNorm parameters, a scale for each output
channel of its weight matrices, and the head were fitted (``bench/train_reader.py``,
on the SQuAD 2.0 training sample); they are stored in ``reader.npz`` and written
into a copy of the int8 ONNX model the embedder already uses: a bias or LayerNorm
replaces the model's tensor of that name, and a scale multiplies the per-channel
dequantisation scale of its int8 weight matrix. A weights file fitted with low-rank
updates of the matrices (``train_reader.py --lora``, tried and not shipped) is read
too: each such matrix is rebuilt (its int8 numbers times their scales times the
fitted scale, plus the update) and quantised again the way the model's own are
(symmetric, per output channel). Nothing is downloaded and nothing is fitted at
run time.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import os
import threading
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.core.errors import OfflineAssetError
from assistant.core.types import JsonObject
from assistant.store.embeddings import minilm_session, model_files, padded

if TYPE_CHECKING:
    from onnx import GraphProto, NodeProto, TensorProto
    from tokenizers import Tokenizer

READER = Path(__file__).with_name("reader.npz")
MAX_PIECES = 256  # question and passage together; a longer passage is cut
MAX_ANSWER_PIECES = 30  # longest span considered, in word pieces
HEAD_WEIGHT, HEAD_BIAS = "head.weight", "head.bias"
ONNX_PREFIX = "inner."  # the int8 model names each float tensor "inner." + its safetensors name
SCALE = ".scale"  # "encoder.layer.0.intermediate.dense.scale": per output channel of its weight
# A low-rank update of a weight matrix, W + B @ A ("encoder.layer.0.output.dense.lora_a", (r, in),
# and ".lora_b", (out, r)): added to the matrix and quantised again, like the model's own weights.
LORA_A, LORA_B = ".lora_a", ".lora_b"
INT8_MAX = 127  # the int8 model's matrices are quantised symmetrically per output channel


def fitted_name(name: str) -> bool:
    """Whether a tensor of the encoder is one the reader fits: biases, LayerNorms, and the
    output-channel scales (``SCALE``) and low-rank updates (``LORA_A``, ``LORA_B``) of the
    encoder's weight matrices.

    The attention key biases are left out: a constant added to every key changes no
    attention weight, so they cannot matter.
    """
    if name.startswith("pooler") or name.endswith("attention.self.key.bias"):
        return False
    if name.startswith("encoder.") and name.endswith((SCALE, LORA_A, LORA_B)):
        return True
    return name.startswith(("embeddings.LayerNorm", "encoder.")) and (
        name.endswith(".bias") or ".LayerNorm." in name
    )


def quantised_matrices(graph: GraphProto) -> dict[str, tuple[str, str]]:
    """For each int8 weight matrix of the encoder, its fitted scale's name, and the names of
    the model's dequantisation scale it multiplies and of the int8 matrix itself.

    The int8 model computes ``x @ (float(W) * scale) + bias``: the scale is found from
    the bias its matrix product is added to ("inner.encoder.layer.0.output.dense.bias"
    names "encoder.layer.0.output.dense.scale").
    """
    inits = {i.name for i in graph.initializer}
    made_by = {out: node for node in graph.node for out in node.output}
    by_input: dict[str, list[NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            by_input.setdefault(name, []).append(node)
    out = {}
    for node in graph.node:
        scale = next((n for n in node.input if n.endswith("_scale") and n in inits), None)
        if node.op_type != "Mul" or scale is None:
            continue
        after = by_input.get(node.output[0], [])
        matmul = next((n for n in after if n.op_type == "MatMul"), None)
        adds = by_input.get(matmul.output[0], []) if matmul is not None else []
        bias = next((i for n in adds if n.op_type == "Add" for i in n.input if i in inits), None)
        cast = next((made_by[i] for i in node.input if i in made_by), None)
        matrix = next((i for i in cast.input if i in inits), None) if cast is not None else None
        if bias and matrix and bias.startswith(ONNX_PREFIX) and bias.endswith(".bias"):
            out[bias[len(ONNX_PREFIX) : -len(".bias")] + SCALE] = (scale, matrix)
    return out


def reader_model(fitted: dict[str, np.ndarray], path: Path | None = None) -> bytes:
    """The int8 model (``path``: the embedder's) with the reader's fitted tensors in it.

    Raises ``OfflineAssetError`` when a tensor has no place in the model (a weights file
    made for another model): ONNX Runtime would ignore it without a word.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path or model_files()[0]))
    inits = {i.name: i for i in model.graph.initializer}
    scales = quantised_matrices(model.graph)
    fitted = dict(fitted)
    for name in [n for n in fitted if n.endswith(LORA_A)]:
        base = name.removesuffix(LORA_A)
        if base + SCALE not in scales or base + LORA_B not in fitted:
            raise OfflineAssetError(
                f"The reader's tensor {name} has no place in the installed MiniLM model; "
                "reinstall the project (`make run`) or refit the reader (`make train`)."
            )
        scale, matrix = (inits[n] for n in scales[base + SCALE])
        update = fitted.pop(name).T @ fitted.pop(base + LORA_B).T  # (in, out), as the matrix
        channel = fitted.pop(base + SCALE, np.ones(update.shape[1], np.float32))
        _add_update(matrix, scale, channel, update)
    for name, value in fitted.items():
        target = inits.get(scales[name][0] if name in scales else ONNX_PREFIX + name)
        if target is None:
            raise OfflineAssetError(
                f"The reader's tensor {name} has no place in the installed MiniLM model; "
                "reinstall the project (`make run`) or refit the reader (`make train`)."
            )
        new = np.asarray(value, dtype=np.float32)
        if name.endswith(SCALE):
            new = numpy_helper.to_array(target).astype(np.float32) * new
        target.CopyFrom(numpy_helper.from_array(new.reshape(tuple(target.dims)), target.name))
    serialised: bytes = model.SerializeToString()
    return serialised


def compiled(path: Path = READER, cache_dir: Path | None = None) -> str | bytes:
    """The reader's ONNX model as a file in ``cache_dir``, written the first time, or as bytes.

    Writing the fitted tensors into the model needs the ``onnx`` package, whose import
    alone took 0.6 s of a cold `assistant ask`; `assistant setup` (``make install``)
    writes the file once, named by the weights and the model it was built from, and a
    session opens it directly. A folder that cannot be written gets the bytes each time.
    """
    onnx_file = model_files()[0].resolve()
    stat = onnx_file.stat()
    model_of = f"{onnx_file}{stat.st_size}{stat.st_mtime_ns}".encode()
    key = hashlib.sha256(path.read_bytes() + model_of).hexdigest()[:16]
    target = (cache_dir or path.parent) / f"reader-{key}.onnx"
    if target.is_file():
        return str(target)
    model = reader_model(Weights.load(path).tensors, onnx_file)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(model)
        os.replace(partial, target)  # another process building it too writes the same bytes
    except OSError:
        return model
    return str(target)


def _add_update(
    matrix: TensorProto, scale: TensorProto, channel: np.ndarray, update: np.ndarray
) -> None:
    """Rebuild an int8 ``matrix`` (in, out) as its float value times the fitted ``channel``
    scales plus ``update``, and quantise it again as the model's own matrices are."""
    from onnx import numpy_helper

    weight = numpy_helper.to_array(matrix).astype(np.float32)
    weight *= numpy_helper.to_array(scale).reshape(1, -1) * channel.reshape(1, -1)
    weight += update
    step = np.maximum(np.abs(weight).max(axis=0, keepdims=True), 1e-12) / INT8_MAX
    quantised = np.clip(np.rint(weight / step), -INT8_MAX, INT8_MAX).astype(np.int8)
    matrix.CopyFrom(numpy_helper.from_array(quantised, matrix.name))
    new_scale = step.astype(np.float32).reshape(tuple(scale.dims))
    scale.CopyFrom(numpy_helper.from_array(new_scale, scale.name))


def tokenizer() -> Tokenizer:
    """MiniLM's tokenizer, set to encode (question, passage) pairs cut to MAX_PIECES."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_files()[1]))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_PIECES, strategy="only_second")
    return tok


@dataclass(frozen=True)
class Weights:
    """The reader's fitted numbers: the encoder's tensors by name, the head, and a note
    saying what they were fitted on."""

    tensors: dict[str, np.ndarray]
    head_weight: np.ndarray  # (2, 384): start and end
    head_bias: np.ndarray  # (2,)
    note: JsonObject

    @classmethod
    def load(cls, path: Path = READER) -> Weights:
        """Read a file written by ``save``."""
        with np.load(path) as z:
            note = json.loads(str(z["note"]))
            flat = z["encoder"].astype(np.float32)
            head_weight, head_bias = z[HEAD_WEIGHT], z[HEAD_BIAS]
        tensors, at = {}, 0
        for name, shape in note["tensors"]:
            size = int(np.prod(shape))
            tensors[name] = flat[at : at + size].reshape(shape)
            at += size
        return cls(tensors, head_weight.astype(np.float32), head_bias.astype(np.float32), note)

    def save(self, path: Path) -> None:
        """An .npz of four arrays: the encoder's tensors end to end in float16 (their names
        and shapes in the note), the head in float32, and the note. Its bytes depend on
        the numbers only (fixed zip dates, sorted names), so a refit that changes nothing
        writes the same file."""
        names = sorted(self.tensors)
        note = {**self.note, "tensors": [[n, list(self.tensors[n].shape)] for n in names]}
        arrays: dict[str, np.ndarray] = {
            "encoder": np.concatenate([self.tensors[n].ravel() for n in names]).astype(np.float16),
            HEAD_WEIGHT: self.head_weight.astype(np.float32),
            HEAD_BIAS: self.head_bias.astype(np.float32),
            "note": np.array(json.dumps(note, sort_keys=True)),
        }
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted(arrays):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arrays[name], allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                z.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED)


@dataclass(frozen=True)
class Reading:
    """The reader's scores for one passage: per word piece of the passage, with its offsets."""

    offsets: np.ndarray  # (n, 2) character offsets of the passage's pieces
    start: np.ndarray  # (n,) start scores
    end: np.ndarray  # (n,) end scores
    null: float  # the no-span score

    def best(self, lo: int = 0, hi: int | None = None) -> tuple[float, int, int] | None:
        """The best span lying within characters [lo, hi) (all of the passage when ``hi``
        is None): (score, start, end), or None when no piece lies there."""
        within = self.offsets[:, 0] >= lo
        if hi is not None:
            within &= self.offsets[:, 1] <= hi
        inside = np.flatnonzero(within)
        if not len(inside):
            return None
        s, e = self.start[inside], self.end[inside]
        pairs = s[:, None] + e[None, :]
        gap = inside[None, :] - inside[:, None]
        pairs[(gap < 0) | (gap >= MAX_ANSWER_PIECES)] = -np.inf
        a, b = np.unravel_index(int(np.argmax(pairs)), pairs.shape)
        return float(pairs[a, b]), int(self.offsets[inside[a], 0]), int(self.offsets[inside[b], 1])

    def spans(self, lo: int, hi: int, gap: float, limit: int) -> list[tuple[float, int, int]]:
        """The best span within characters [lo, hi), then each next best that overlaps none
        taken and scores within ``gap`` of the first, at most ``limit`` in all, best first.

        For a question that asks for several things ("What did Putin give Kim?"), each
        item the passage gives is a span the reader scores nearly as high as the best.
        """
        inside = np.flatnonzero((self.offsets[:, 0] >= lo) & (self.offsets[:, 1] <= hi))
        if not len(inside):
            return []
        pairs = self.start[inside][:, None] + self.end[inside][None, :]
        gap_pieces = inside[None, :] - inside[:, None]
        pairs[(gap_pieces < 0) | (gap_pieces >= MAX_ANSWER_PIECES)] = -np.inf
        taken: list[tuple[float, int, int]] = []
        while len(taken) < limit:
            a, b = np.unravel_index(int(np.argmax(pairs)), pairs.shape)
            score = float(pairs[a, b])
            if not np.isfinite(score) or (taken and score < taken[0][0] - gap):
                break
            taken.append((score, int(self.offsets[inside[a], 0]), int(self.offsets[inside[b], 1])))
            # No later span may overlap this one: it may neither start nor end within it.
            pairs[a : b + 1, :] = -np.inf
            pairs[:, a : b + 1] = -np.inf
            pairs[:a, b + 1 :] = -np.inf  # nor contain it
        return taken


class Reader:
    """Scores the spans of passages for a question (thread-safe; one ONNX session)."""

    def __init__(
        self, path: Path = READER, threads: int | None = None, cache_dir: Path | None = None
    ) -> None:
        if not path.exists():
            raise OfflineAssetError(f"The reader's weights are missing: {path}. Run `make train`.")
        weights = Weights.load(path)
        self.head_weight, self.head_bias = weights.head_weight, weights.head_bias
        model = compiled(path, cache_dir) if cache_dir else reader_model(weights.tensors)
        self.session = minilm_session(threads or os.cpu_count() or 1, model, cache_dir)
        self.tokenizer = tokenizer()
        self._lock = threading.Lock()

    def read(self, question: str, passages: list[str]) -> list[Reading]:
        """The reader's scores for each passage, in order.

        Each passage is read on its own: padding a batch to its longest passage cost
        more than batching saved (4 chunks of 10k: 69 ms one by one, 87 ms as one batch;
        the scores agree to 2e-6).
        """
        if not passages:
            return []
        with self._lock:
            encodings = self.tokenizer.encode_batch([(question, p) for p in passages])
        out = []
        for enc in encodings:
            hidden = self.session.run(None, padded([enc]))[0][0]
            scores = hidden @ self.head_weight.T + self.head_bias
            piece = np.array([s == 1 for s in enc.sequence_ids])
            offsets = np.array(enc.offsets, dtype=np.int64)[piece].reshape(-1, 2)
            null = float(scores[0, 0] + scores[0, 1])
            out.append(Reading(offsets, scores[piece, 0], scores[piece, 1], null))
        return out


_BUILD = threading.Lock()  # one reader per process, even when two threads ask at once
LOAD_TIMEOUT_S = 30  # longest wait at exit for a reader still being built


def load(path: Path = READER, cache_dir: Path | None = None) -> Reader:
    """The reader (built once per process; its model file kept in ``cache_dir``)."""
    with _BUILD:
        return _built(path, cache_dir)


@cache
def _built(path: Path, cache_dir: Path | None) -> Reader:
    return Reader(path, cache_dir=cache_dir)


_PRELOADING: set[tuple[Path, Path | None]] = set()


def preload(path: Path = READER, cache_dir: Path | None = None) -> None:
    """Build the reader in the background, once per process, so that the first question
    does not wait for it; a failure is raised again by ``load``."""
    with _BUILD:
        if (path, cache_dir) in _PRELOADING:
            return
        _PRELOADING.add((path, cache_dir))

    def build() -> None:
        try:
            load(path, cache_dir)
        except Exception:  # raised again when the reader is asked for
            return

    thread = threading.Thread(target=build, name="reader-load", daemon=True)
    thread.start()
    # A process that ends while ONNX Runtime is still building a session aborts: wait.
    atexit.register(thread.join, LOAD_TIMEOUT_S)


@dataclass(frozen=True)
class Mix:
    """How the extractive answerer uses the reader (fitted by ``bench/train.py``)."""

    weight: float  # sentence score: ranker logit + weight × (its best span − best span read)
    null_margin: float | None  # refuse when "no span" beats the best span by this much
    read: int  # the reader reads the chunks of this many top-ranked sentences
    short: bool  # the short answer is the reader's best span (else the span scorer's)
    gate: float | None = None  # the weight counts only when the best span read scores this
    # A question asking for several things gets every span within this much of the best
    # (``Reading.spans``); None: the best span alone.
    list_gap: float | None = None

    @classmethod
    def from_dict(cls, data: JsonObject) -> Mix:
        margin, gate, gap = data.get("null_margin"), data.get("gate"), data.get("list_gap")
        return cls(
            float(data["weight"]),
            None if margin is None else float(margin),
            int(data["read"]),
            data["short_answer"] == "reader",
            None if gate is None else float(gate),
            None if gap is None else float(gap),
        )


def reread(
    scores: list[float],
    spans: list[tuple[float, int, int] | None],
    weight: float,
    gate: float | None = None,
) -> list[float]:
    """Sentence scores with the reader's best span of each sentence mixed in.

    Sentences the reader did not read (``None``) keep their ranker score, lowered
    below every read sentence: the read ones are the ranker's own best. When the
    best span read scores below ``gate`` the reader found no answer it is sure of,
    and the ranker's scores stand alone (weight 0).
    """
    read = [s[0] for s in spans if s is not None]
    if not read:
        return list(scores)
    top = max(read)
    if gate is not None and top < gate:
        weight = 0.0
    mixed = [
        sc + weight * (s[0] - top) if s is not None else None
        for sc, s in zip(scores, spans, strict=True)
    ]
    floor = min(m for m in mixed if m is not None) - 1.0 - max(scores)
    return [m if m is not None else floor + sc for m, sc in zip(mixed, scores, strict=True)]
