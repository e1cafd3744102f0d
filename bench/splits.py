"""The fixed split of RGB en_fact into a fit half and a held-out half.

Written once, before any held-out figure was looked at, and never to be changed
after: a question belongs to the fit half when the first byte of the SHA-256 of its
text (UTF-8, stripped) is even. Anything fitted or tuned on RGB uses the fit half
only; figures reported on RGB say which half they come from.
"""

from __future__ import annotations

import hashlib


def rgb_split(question: str) -> str:
    """'fit' or 'heldout' for an RGB question."""
    first = hashlib.sha256(question.strip().encode("utf-8")).digest()[0]
    return "fit" if first % 2 == 0 else "heldout"
