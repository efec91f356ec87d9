"""The pieces the grammar's rules are made of: :class:`Rule`, the builders that turn a match
into a :class:`~cairn.command.model.Command`, and the shared word patterns (verbs, nouns,
what counts as "it")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cairn.command.model import Command, Intent
from cairn.command.request_filters import Filters, _tidy

# -- rules ---------------------------------------------------------------------------------

_DEICTIC = (
    r"(?:it|that|this|them|those|these|they|one|that\s+one|this\s+one|the\s+one|"
    r"the\s+(?:first|second|third|fourth|last|other|next|previous|same|latest)(?:\s+one)?|"
    r"the\s+other\s+ones?|everything|all|all\s+of\s+(?:them|it)|both)"
)
_DOC_NOUN = (
    r"(?:papers?|documents?|docs?|articles?|reports?|notes?|files?|sources?|stuff|things|"
    r"material|materials|texts?|records?|pdfs?|pages?|entries|items|results|anything|something|"
    r"everything)"
)
_ABOUT = (
    r"(?:on|about|regarding|concerning|mentioning|that\s+mention|which\s+mention|related\s+to|"
    r"covering|discussing|relating\s+to|dealing\s+with|to\s+do\s+with|with|of)"
)
_STORE = (
    r"(?:knowledge\s+base|kb|library|sources|documents|notes|cairn|database|memory|index|archive)"
)
_KB = (
    r"(?:knowledge\s+base|kb|library|sources|documents|collection|collections|notes|cairn|"
    r"database|memory|index|archive|files)"
)


@dataclass(frozen=True)
class Rule:
    """One template: ``pattern`` is matched (``fullmatch``) against the text of ``stage``."""

    name: str
    intent: Intent
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str], Filters], Command | None]
    stage: str = "raw"  # raw: normalised text; filtered: with filters taken out; question: no dates


def _clarify(question: str, confidence: float = 1.0) -> Command:
    return Command(intent="clarify", clarification=question, confidence=confidence)


def _out_of_scope(reason: str) -> Command:
    return Command(intent="out_of_scope", clarification=reason, confidence=0.9)


def _strip_doc_nouns(query: str) -> str:
    q = query.strip()
    q = re.sub(
        rf"^(?:(?:all|any|some|every)\s+)?(?:(?:the|my|our|your)\s+)?(?:{_DOC_NOUN}\s+)+"
        rf"(?:(?:i|we)\s+(?:have|got|saved)\s+)?{_ABOUT}\s+",
        "",
        q,
    )
    q = re.sub(r"^(?:what|whatever)\s+(?:i|we)\s+(?:have|got|saved)\s+(?:on|about)\s+", "", q)
    q = re.sub(r"^(?:on|about|regarding|for)\s+", "", q)
    q = re.sub(
        r"\s+(?:papers|documents|docs|articles|reports|notes|files|sources|stuff|material)$",
        "",
        q,
    )
    return _tidy(q)


def _is_deictic(text: str) -> bool:
    return (
        re.fullmatch(rf"(?:the\s+)?{_DEICTIC}(?:\s+(?:one|ones|again))?", text.strip()) is not None
    )


def _with_query(intent: Intent, query: str, f: Filters, what: str, conf: float) -> Command:
    query = _tidy(query)
    if not query or _is_deictic(query):
        return _clarify(f"What should I {what}? Say it in full, e.g. '{what} solar panels'.")
    return Command(intent=intent, query=query, confidence=conf, **f.as_slots())


def _search(m: re.Match[str], f: Filters) -> Command | None:
    query = _strip_doc_nouns(m.group("q"))
    if re.fullmatch(rf"(?:all\s+)?(?:(?:my|the|our)\s+)?{_DOC_NOUN}", query):
        return None  # "show me all my files" is a listing, not a search
    return _with_query("search", query, f, "search for", 0.9)


def _ask(m: re.Match[str], f: Filters) -> Command | None:
    query = m.group("q")
    query = re.sub(
        r"\s+(?:according\s+to|in|from|based\s+on)\s+(?:my|the|our)\s+(?:\w+\s+){0,2}"
        r"(?:sources|notes|documents|papers|files|knowledge\s+base|kb|library)$",
        "",
        query,
    )
    return _with_query("ask", query, f, "ask about", 0.85)


def _question(m: re.Match[str], f: Filters) -> Command | None:
    text = m.group(0)
    if len(text.split()) < 3:
        return None
    return _ask(m, f)


def _synthesize(m: re.Match[str], f: Filters) -> Command | None:
    query = re.sub(r"^(?:the\s+)?(?:idea|claim|statement|notion|view)\s+(?:that\s+)?", "", m["q"])
    query = re.sub(r"^(?:that|whether)\s+", "", query)
    return _with_query("synthesize", query, f, "weigh the evidence on", 0.9)


def _chart(m: re.Match[str], f: Filters) -> Command | None:
    query = _tidy(m.group("q"))
    kind = m.groupdict().get("k") or m.groupdict().get("k2")
    trail = re.search(
        r"\s+(?:as|in)\s+(?:a\s+|an\s+)?(?P<k>bar|line|pie|scatter)(?:\s*(?:chart|graph|plot|diagram))?$",
        query,
    )
    if trail:
        kind = kind or trail.group("k")
        query = query[: trail.start()]
    query = re.sub(r"^(?:of|for|showing)\s+", "", query)
    if not query or _is_deictic(query):
        return _clarify(
            "What should I chart? Name the data, e.g. 'chart the number of sources by year'."
        )
    return Command(
        intent="chart",
        query=_tidy(query),
        chart_kind=kind if kind in ("bar", "line", "pie", "scatter") else None,  # type: ignore[arg-type]
        confidence=0.9,
        **f.as_slots(),
    )


def _remember(m: re.Match[str], f: Filters) -> Command | None:
    fact = m.group("q").strip()
    if _is_deictic(fact) or len(fact.split()) < 2:
        return _clarify("What should I remember? Say the fact, e.g. 'remember that ...'.")
    return Command(intent="remember", query=fact, confidence=0.95)


def _forget(m: re.Match[str], f: Filters) -> Command | None:
    target = m.group("s").strip()
    target = re.sub(rf"\s+from\s+(?:my|the|our)\s+(?:\w+\s+)?{_STORE}$", "", target)
    target = re.sub(r"\s+from\s+cairn$", "", target)
    everything = re.fullmatch(
        rf"(?:all|everything|every\s+\w+)(?:\s+(?:of\s+)?(?:my|the|our))?(?:\s+{_DOC_NOUN}|\s+{_KB})?"
        rf"(?:\s+(?:in|from)\s+(?:my|the)\s+(?P<c>[\w.\- ]+?)\s+collection)?",
        target,
    )
    if everything:
        if everything.group("c"):
            return Command(intent="forget", collection=everything.group("c"), confidence=0.85)
        return _clarify(
            "That would delete everything. Which source should I forget? "
            "Name one (file name, URL or id), or say 'list my sources'."
        )
    named = re.search(r"\b(?:called|named|titled)\s+", target)
    if named:
        target = target[named.end() :]
    target = re.sub(
        r"^(?:the\s+|my\s+|this\s+|a\s+)?(?:(?:source|file|document|doc|pdf|article|paper|page|"
        r"url|link|note|entry)s?\s+)?(?:with\s+id\s+|id\s+|number\s+)?",
        "",
        target,
    )
    target = re.sub(r"^(?:about|on)\s+(?:the\s+)?", "", target)
    if not named:
        target = re.sub(
            r"\s+(?:source|file|document|doc|pdf|article|paper|page|notes?)$", "", target
        ).strip()
    vague = re.search(
        r"\b(?:i|we)\s+(?:added|uploaded|ingested|saved|had)\b|\b(?:yesterday|today|earlier|"
        r"recently|last|latest|previous|before)\b",
        target,
    )
    if not target or _is_deictic(target) or vague:
        return _clarify(
            "Which source should I forget? Give its file name, URL or id "
            "('list my sources' shows them)."
        )
    return Command(intent="forget", source=target, confidence=0.9)


_API_WORD = r"(?:api|apis|service|endpoint|web\s+service)"


def _snake(words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", words.strip().lower()).strip("_")


def _api_params(rest: str) -> dict[str, str | int | float | bool]:
    params: dict[str, str | int | float | bool] = {}
    for key, value in re.findall(r"\b([a-z_][\w]*)\s*=\s*(\S+)", rest):
        params[key] = _coerce(value)
    rest = re.sub(r"\s*\b(?:with\s+)?[a-z_][\w]*\s*=\s*\S+", "", rest)
    rest = _tidy(re.sub(r"^(?:for|about|on|with|to|and|regarding)\s+", "", rest.strip()))
    if rest:
        params = {"q": rest, **params}
    return params


def _coerce(value: str) -> str | int | float | bool:
    if value in ("true", "yes"):
        return True
    if value in ("false", "no"):
        return False
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d+\.\d+", value):
        return float(value)
    return value


def _call_api(m: re.Match[str], f: Filters) -> Command | None:
    service = m.groupdict().get("svc") or ""
    service = re.sub(r"^(?:the|my|our|a|an)\s+", "", service.strip())
    if not service or service in ("the", "an", "a", "that", "this", "some", "any"):
        return _clarify(
            "Which API should I call, and with what? e.g. 'call the weather API for Paris'."
        )
    operation = _snake(service)
    op = m.groupdict().get("op")
    if op:
        operation += "." + _snake(re.sub(r"^(?:the|a|an)\s+", "", op))
    params = _api_params(m.groupdict().get("rest") or "")
    if m.groupdict().get("q"):
        params = {"q": _tidy(m.group("q")), **params}
    return Command(intent="call_api", api_operation=operation, api_params=params, confidence=0.85)


def _weather(m: re.Match[str], f: Filters) -> Command | None:
    return Command(
        intent="call_api",
        api_operation="weather",
        api_params={"q": _tidy(m.group("q"))},
        confidence=0.75,
    )


def _help(m: re.Match[str], f: Filters) -> Command | None:
    return Command(intent="help", confidence=0.95)


def _list(m: re.Match[str], f: Filters) -> Command | None:
    return Command(intent="list_sources", confidence=0.9, **f.as_slots())


def _fixed_clarify(question: str) -> Callable[[re.Match[str], Filters], Command | None]:
    def build(m: re.Match[str], f: Filters) -> Command | None:
        return _clarify(question)

    return build


def _fixed_oos(reason: str) -> Callable[[re.Match[str], Filters], Command | None]:
    def build(m: re.Match[str], f: Filters) -> Command | None:
        return _out_of_scope(reason)

    return build


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_REMEMBER_VERB = (
    r"(?:remember|memori[sz]e|note\s+down|write\s+down|jot\s+down|make\s+a\s+note|"
    r"take\s+a\s+note|save\s+a\s+note|add\s+a\s+note|keep\s+in\s+mind|bear\s+in\s+mind|"
    r"dont\s+forget|do\s+not\s+forget|never\s+forget|save\s+this|save\s+the\s+fact|"
    r"add\s+(?:a\s+note\s+)?to\s+my\s+notes|note|store|log|record)"
)
_FORGET_VERB = (
    r"(?:forget(?:\s+about)?|delete|remove|erase|drop|purge|wipe(?:\s+out)?|get\s+rid\s+of|"
    r"throw\s+away|discard|trash|unlearn)"
)
_CHART_NOUN = r"(?:chart|graph|plot|diagram|histogram|visuali[sz]ation|scatterplot|bar\s+chart)"
_CHART_KINDS = r"(?P<k>bar|line|pie|scatter)"
_SOURCES = (
    r"(?:sources|documents|docs|files|papers|articles|notes|collections|things|stuff|items|"
    r"texts|records|pdfs)"
)
_OOS_ACTION = (
    "I can search, answer from and summarise your own sources, call APIs you have set up and "
    "draw charts; I cannot {what}."
)
