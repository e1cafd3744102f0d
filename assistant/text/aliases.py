"""Names that stand for a country: its national capital, and places in that capital.

News writes "Moscow" or "the Kremlin" for Russia's government and "Pyongyang" for
North Korea's. The no-answer detector and the premise check count a question's name
as mentioned when a passage names what it stands for ("the Kremlin" over passages
that say "Russia"). The table, ``aliases.json``, comes from WordNet (Princeton
University; licence in ``WORDNET-LICENSE.txt``) and is built by
``bench/wordnet_aliases.py``: every one-word name of a national capital with its
country's names and adjectives, and every one-word name of a place WordNet has as
part of a capital with the capital's names too. Nothing broader than a country:
"Paris" is not covered by "Europe".
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ALIASES = Path(__file__).with_name("aliases.json")


@cache
def aliases() -> dict[str, list[str]]:
    """Lower-cased name -> the names that may stand for it ("moscow" -> ["Russia", ...])."""
    table: dict[str, list[str]] = json.loads(ALIASES.read_text(encoding="utf-8"))["aliases"]
    return table
