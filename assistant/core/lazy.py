"""A package's public names, imported from its modules only when first used.

Each package's ``__init__`` names its public surface without importing it: a cold
`assistant ask` that needs one name of ``assistant.store`` must not load Chroma,
ONNX Runtime and LangChain for the others. The same pattern as langchain-core's
packages (PEP 562's module ``__getattr__``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def exports(package: str, where: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` giving each name of ``where`` from its module of ``package``."""

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module}"), name)

    return __getattr__
