"""Requests made alike before the grammar reads them: :func:`normalise` (lowercase, fillers
dropped, spelled numbers as digits, sentence punctuation removed) and
:func:`looks_non_english`."""

from __future__ import annotations

import re
import unicodedata

# -- normalisation -------------------------------------------------------------------------

_FILLERS = {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm", "mmm", "ah", "eh"}
_ANYWHERE = re.compile(r"\b(?:please|kindly|you know|i mean)\b")
_LEADING = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay)\s+cairn|cairn|hey|hi|hello|ok|okay|so|well|alright|right|"
    r"now|and|oh|just|quickly|actually|"
    r"(?:could|can|would|will)\s+you(?:\s+(?:just|quickly|maybe))?|"
    r"(?:i\s+want|i\s+need|i\s+would\s+like|id\s+like|i\s+d\s+like)\s+you\s+to|"
    r"(?:i\s+would\s+like|id\s+like|i\s+want|i\s+wanna|i\s+wish)\s+to|i\s+wanna|"
    r"lets|let\s+us)\b\s*"
)
_TRAILING = re.compile(r"\s*\b(?:please|thanks|thank\s+you|cairn|for\s+me)$")
_EDGE_PUNCT = "\"'“”‘’`?!,;:()[]{}<>¿¡…*«»"
_APOSTROPHES = re.compile(r"(?<=\w)['’](?=\w)")
_SPOKEN_EXT = re.compile(
    r"\s+dot\s+(md|txt|pdf|html?|docx?|json|jsonl|csv|tsv|xml|epub|com|org|net|io|edu|gov)\b"
)

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORDS = set(_UNITS) | set(_TEENS) | set(_TENS) | set(_SCALES)


def _cardinal(words: list[str]) -> int | None:
    """'two thousand and five' -> 2005, 'fifteen hundred' -> 1500; None when not well formed."""
    total = current = 0
    prev = ""  # class of the previous word: unit, teen, tens, hundred, scale, and
    for i, w in enumerate(words):
        if w == "and":
            if prev not in ("hundred", "scale") or i == len(words) - 1:
                return None
            prev = "and"
        elif w in _UNITS:
            if prev in ("unit", "teen"):
                return None
            current += _UNITS[w]
            prev = "unit"
        elif w in _TEENS:
            if prev in ("unit", "teen", "tens"):
                return None
            current += _TEENS[w]
            prev = "teen"
        elif w in _TENS:
            if prev in ("unit", "teen", "tens"):
                return None
            current += _TENS[w]
            prev = "tens"
        elif w == "hundred":
            if prev not in ("unit", "teen", "tens") or current % 100 == 0 or current >= 100:
                return None
            current *= 100
            prev = "hundred"
        elif w in _SCALES:
            if prev in ("", "and", "scale"):
                return None
            total += current * _SCALES[w]
            current = 0
            prev = "scale"
        else:
            return None
    return total + current if prev else None


def _two_digits(words: list[str]) -> tuple[int, int] | None:
    """A year half at the start of ``words``: (value, words used), e.g. 'sixty six' -> 66."""
    if not words:
        return None
    w = words[0]
    if w in _TEENS:
        return _TEENS[w], 1
    if w in _TENS:
        if len(words) > 1 and words[1] in _UNITS and words[1] != "zero":
            return _TENS[w] + _UNITS[words[1]], 2
        return _TENS[w], 1
    if w in ("oh", "o") and len(words) > 1 and words[1] in _UNITS and words[1] != "zero":
        return _UNITS[words[1]], 2
    return None


def _year(words: list[str]) -> tuple[int, int] | None:
    """'twenty nineteen' -> 2019, 'ten sixty six' -> 1066, 'nineteen oh five' -> 1905."""
    if not words or not (words[0] in _TEENS or words[0] == "twenty"):
        return None
    century = _TEENS.get(words[0], 20)
    rest = _two_digits(words[1:])
    if rest is None:
        return None
    return century * 100 + rest[0], 1 + rest[1]


def _numbers_to_digits(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        w = tokens[i]
        if w not in _NUMBER_WORDS or (w == "one" and not _continues_number(tokens, i)):
            out.append(w)
            i += 1
            continue
        year = _year(tokens[i : i + 3])
        if year is not None:
            out.append(str(year[0]))
            i += year[1]
            continue
        best: tuple[int, int] | None = None
        j = i + 1
        while j <= len(tokens) and (tokens[j - 1] in _NUMBER_WORDS or tokens[j - 1] == "and"):
            value = _cardinal(tokens[i:j])
            if value is not None:
                best = (value, j)
            j += 1
        if best is None:
            out.append(w)
            i += 1
        else:
            out.append(str(best[0]))
            i = best[1]
    return out


def _continues_number(tokens: list[str], i: int) -> bool:
    """'one' is a number only inside a compound ('one hundred', 'twenty one')."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    prev = tokens[i - 1] if i else ""
    return nxt in _SCALES or prev in _TENS or nxt in ("point",)


def normalise(text: str) -> str:
    """Lowercase, drop fillers and sentence punctuation, spelled numbers to digits."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHES.sub("", text)
    tokens = []
    for raw in text.split():
        tok = raw.strip(_EDGE_PUNCT)
        tok = tok.rstrip(".")
        tok = tok.strip(_EDGE_PUNCT)
        if tok and tok not in _FILLERS and re.search(r"\w", tok):
            tokens.append(tok)
    tokens = _numbers_to_digits(tokens)
    text = " ".join(tokens)
    text = re.sub(r"\b(\d+) point (?:oh|o|zero)\b", r"\1.0", text)
    text = re.sub(r"\b(\d+) point (\d+)\b", r"\1.\2", text)
    text = _SPOKEN_EXT.sub(r".\1", text)
    text = _ANYWHERE.sub(" ", text)
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _LEADING.sub("", text).strip()
        text = _TRAILING.sub("", text).strip()
    return text


# -- language ----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_ENGLISH_WORDS = """the a an of to in on for about from with and or is are was were be do does
did what who when where why how which that this it my me i you your can could would should will
have has had any all some find search show list tell give get remember forget delete remove chart
plot help please documents sources notes say says papers call api weather there not no"""
_FOREIGN_WORDS = """el la los las un una unos que qué dice dicen mis tus sobre del por para
como cómo cuál dónde cuándo está están es son y o le les des du une est sont mes tes quels quelles
quel parlent dit disent pour avec dans sur qui où quand pourquoi der die das den dem ein eine und
ist sind meine deine über mit für wie wo wann warum sagen sagt nicht ich il lo gli di che sono
della delle degli per nel nella dei het een van zijn wat hoe waar não são uma em com os as meu
minha hola estas esta tengo tienes puedes quiero buscar busca gracias bonjour merci je tu vous
nous peux pouvez cherche trouve danke bitte kannst zeige suche finde ciao grazie voglio cerca
trova hallo"""
_ENGLISH = frozenset(_words(_ENGLISH_WORDS))
# Words that are also common in English do not count as foreign.
_FOREIGN = frozenset(_words(_FOREIGN_WORDS)) - _ENGLISH - {"die", "as", "os", "son", "le"}


def looks_non_english(text: str) -> bool:
    """A cheap heuristic: mostly non-Latin letters, or more foreign function words than English."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    if latin / len(letters) < 0.5:
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(1 for w in words if w in _FOREIGN)
    english = sum(1 for w in words if w in _ENGLISH)
    if re.search(r"[¿¡ñßõãœ]", text.lower()) and foreign >= 1:
        return True
    return foreign >= 2 and foreign > english
