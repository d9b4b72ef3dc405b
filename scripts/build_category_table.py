"""Rebuild ``src/moodbridge/emotion/data/category_va.csv`` from the NRC-VAD lexicon.

Each category of ``moodbridge.emotion.taxonomy.CATEGORY_WORDS`` is placed at the
mean VA of its words (EMID Sec. 3.1.1), converted from NRC-VAD's [0, 1] to the
project's [-1, 1].  Only the derived table is packaged; the lexicon is not.

Usage::

    python scripts/build_category_table.py --lexicon ../shared/data/nrc-vad/NRC-VAD-Lexicon_v1.txt
    python scripts/build_category_table.py --lexicon PATH --check   # exit 1 if the shipped table differs
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from moodbridge.emotion.lexicon import Lexicon
from moodbridge.emotion.taxonomy import category_table, category_table_csv
from moodbridge.errors import MoodbridgeError

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "src" / "moodbridge" / "emotion" / "data" / "category_va.csv"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the category table; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexicon", required=True, type=Path, help="NRC-VAD-format lexicon file")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV to write (default: the packaged one)")
    parser.add_argument("--check", action="store_true", help="do not write; fail if the output differs")
    args = parser.parse_args(argv)
    try:
        lexicon = Lexicon.load(args.lexicon)
        text = category_table_csv(lexicon)
    except MoodbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; rerun without --check", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    for tax, cat, words, va in category_table(lexicon):  # only the chosen category words are shown
        print(f"{tax:9s} {cat:20s} {'; '.join(words):38s} V={va.valence:+.3f} A={va.arousal:+.3f}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
