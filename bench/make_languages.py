"""Write src/cairn/command/languages.tsv: the two-letter (ISO 639-1) languages spoken by five
million people or more, with their English names, from the Unicode CLDR and IANA data that the
langcodes and language_data packages ship (MIT; a tool run once, not a dependency:
`pip install langcodes==3.5.1 language_data==1.4.0`).

    python bench/make_languages.py
"""

from __future__ import annotations

import string
from pathlib import Path

import langcodes  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "src" / "cairn" / "command" / "languages.tsv"
MIN_SPEAKERS = 5_000_000
ALSO = {"bn": "Bengali", "fa": "Farsi", "tl": "Tagalog", "ny": "Chichewa", "pa": "Panjabi"}


def main() -> None:
    rows = []
    for a in string.ascii_lowercase:
        for b in string.ascii_lowercase:
            code = a + b
            lang = langcodes.Language.get(code)
            if not lang.is_valid() or langcodes.standardize_tag(code) != code:
                continue  # "iw", "in": old codes for he, id
            if lang.speaking_population() < MIN_SPEAKERS:
                continue
            names = [lang.display_name().split(" (")[0], *([ALSO[code]] if code in ALSO else [])]
            if all(n.isascii() for n in names):
                rows.append((code, "|".join(names)))
    lines = [
        "# ISO 639-1 languages of 5 million speakers or more, English names (| between names),",
        "# from Unicode CLDR / IANA data via langcodes and language_data (MIT); make_languages.py",
        *(f"{code}\t{name}" for code, name in rows),
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} languages -> {OUT}")


if __name__ == "__main__":
    main()
