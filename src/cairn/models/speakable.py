"""What a spoken answer says: :func:`speakable` turns a cited written answer into something
pleasant to hear (citations read as "according to <title>", markdown dropped), and
:func:`speech_pieces` cuts it into the pieces a speech engine speaks one after another (the
first clause first, so playing can start early)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from cairn.text.sentences import split_sentences

__all__ = ["FIRST_PIECE_CHARS", "speakable", "speech_pieces"]

_CITE = re.compile(r"\s*\[\^?(\d+(?:\s*[,;\u2013-]\s*\^?\d+)*)\]")
_CITES_AFTER_END = re.compile(r"([.!?][\"'\u201d\u2019)]*)((?:\s*\[\^?\d[\d\s,;\u2013^-]*\])+)")
_END = re.compile(r"[.!?]+[\"'\u201d\u2019)]*\s*$")
_TAIL = re.compile(r"([.!?]*)([\"'\u201d\u2019)]*)([.!?]*)\s*$")
_FILE_EXT = re.compile(r"\.(pdf|md|markdown|txt|html?|docx?|rtf|csv|json|epub)$", re.I)


def _strip_markdown(text: str) -> str:
    text = re.sub(r"```.*?(```|$)", " ", text, flags=re.S)  # code blocks are not for ears
    text = re.sub(r"<[^>\n]+>", " ", text)  # HTML tags
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)  # images -> alt text
    text = re.sub(r"\[(\d+)\]\([^)]*\)", r"[\1]", text)  # a linked citation stays a citation
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links -> their text
    text = re.sub(r"https?://\S+", lambda m: _domain(m.group(0)), text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", text)
    text = re.sub(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)", r"\1", text)
    text = re.sub(r"~~(.+?)~~", r"\1", text)
    lines = []
    raw_lines = text.splitlines()
    for i, raw in enumerate(raw_lines):
        line = raw.strip()
        paragraph_end = i + 1 == len(raw_lines) or not raw_lines[i + 1].strip()
        if re.fullmatch(r"[-*_=\s|:]{3,}", line):  # rules and table separators
            continue
        structural = bool(re.match(r"(#{1,6}\s|>|[-*+]\s|\d+[.)]\s|\|)", line))
        line = re.sub(r"^#{1,6}\s+|^>\s?|^[-*+]\s+|^\d+[.)]\s+", "", line)
        if "|" in line:
            line = ", ".join(c.strip() for c in line.strip("|").split("|") if c.strip())
        bare = _CITE.sub("", line)
        if (structural or paragraph_end) and re.search(r"\w", bare) and not _END.search(bare):
            line += "."  # a heading, list item or paragraph becomes its own sentence
        lines.append(line)
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def _domain(url: str) -> str:
    host = urlparse(url.rstrip(".,;)")).hostname or ""
    return host.removeprefix("www.")


def _clean_title(title: str) -> str:
    title = _strip_markdown(title).strip(" .")
    title = _FILE_EXT.sub("", title)
    return re.sub(r"\s+", " ", title.replace("_", " ")).strip()


def _cited_ids(group: str) -> list[int]:
    ids: list[int] = []
    for piece in re.split(r"[,;]", group):
        bounds = [int(n) for n in re.findall(r"\d+", piece)]
        if len(bounds) == 2 and bounds[0] <= bounds[1] <= bounds[0] + 20:  # a range: [2-4]
            ids.extend(range(bounds[0], bounds[1] + 1))
        else:
            ids.extend(bounds)
    return ids


def _join_names(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def speakable(answer_text: str, citations: list[tuple[int, str]]) -> str:
    """A written answer with ``[1]``-style citation markers, as text to read aloud.

    Markdown is removed; each sentence whose sources differ from the previous cited sentence
    ends with ``", according to <title>"``, and markers vanish. For example
    ``"Watt improved the steam engine [1]."`` with ``[(1, "Steam engine")]`` becomes
    ``"Watt improved the steam engine, according to Steam engine."``. Markers for unknown
    numbers are dropped silently.
    """
    titles = {n: _clean_title(t) or f"source {n}" for n, t in citations}
    text = _strip_markdown(answer_text)
    text = _CITES_AFTER_END.sub(r"\2\1", text)  # "end.[1]" -> "end[1]."
    spoken: list[str] = []
    previous: list[str] = []
    for span in split_sentences(text):
        sentence = text[span.start : span.end]
        ids = [i for m in _CITE.finditer(sentence) for i in _cited_ids(m.group(1))]
        names = list(dict.fromkeys(titles[i] for i in ids if i in titles))
        sentence = _CITE.sub("", sentence).strip()
        sentence = re.sub(r"\s+([,.;:!?])", r"\1", sentence)
        if not re.search(r"\w", sentence):  # markers alone: they belong to the sentence before
            if names and spoken and names != previous:
                spoken[-1] = _attribute(spoken[-1], names)
                previous = names
            continue
        if names and names != previous:
            sentence = _attribute(sentence, names)
            previous = names
        spoken.append(sentence)
    return " ".join(spoken)


def _attribute(sentence: str, names: list[str]) -> str:
    """'He said "yes."' -> 'He said "yes", according to X.'"""
    tail = _TAIL.search(sentence)
    assert tail is not None  # the pattern matches the empty tail of any string
    body = sentence[: tail.start()].rstrip(" ,;:") + tail.group(2)
    end = tail.group(3) or tail.group(1) or "."
    return f"{body}, according to {_join_names(names)}{end}"


FIRST_PIECE_CHARS = 60  # a longer first sentence is spoken in two: its first clause first


def speech_pieces(text: str) -> list[str]:
    """``text`` in the pieces :meth:`TextToSpeech.stream` speaks: its sentences, the first
    one cut in two when it is longer than :data:`FIRST_PIECE_CHARS`, so the first audio is
    ready sooner: before an opening quotation mark (past 5 characters) or after a comma
    (past 20), whichever comes first, leaving at least 12 characters for the second piece."""
    text = " ".join(text.split())
    pieces = [text[s.start : s.end].strip() for s in split_sentences(text)]
    pieces = [p for p in pieces if p]
    if pieces and len(pieces[0]) > FIRST_PIECE_CHARS:
        first = pieces[0]
        cuts = [m.start() + 1 for m in re.finditer(r", ", first) if m.start() >= 20]
        cuts += [m.start() for m in re.finditer(r" [\u201c\"]", first) if m.start() >= 5]
        cuts = [c for c in cuts if c < len(first) - 12]
        if cuts:
            cut = min(cuts)
            pieces[:1] = [first[:cut].strip(), first[cut:].strip()]
    return pieces
