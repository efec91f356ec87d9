"""The lexicon snap: transcripts' near-misses of a made-up tool's words, and what it leaves."""

from __future__ import annotations

from cairn.command.lexicon_snap import (
    closeness,
    edit_distance,
    lexicon_terms,
    phonetic_key,
    snap,
)
from cairn.command.operations import OperationDoc, ParamDoc, read_aliases
from cairn.command.schema_match import OperationIndex
from cairn.pipeline import stages

_COMPANY = "Which company: Initech=INTC, Globex=GLBX, Umbrella=UMBR, IBM=IBM."
_ENUM = ("INTC", "GLBX", "UMBR", "IBM")
OPS = [
    OperationDoc(
        tool="quotes",
        name="getSharePrices",
        summary="Share prices of one company over a year",
        params=(
            ParamDoc(
                "company",
                "string",
                required=True,
                description=_COMPANY,
                enum=_ENUM,
                aliases=read_aliases(_COMPANY, _ENUM),
            ),
            ParamDoc("year", "integer", required=True, description="The year, e.g. 2001."),
        ),
    ),
    OperationDoc(
        tool="weather",
        name="getRainfall",
        summary="Monthly rainfall of a town",
        params=(
            ParamDoc(
                "town",
                "string",
                required=True,
                description="The town.",
                enum=("Springfield", "Shelbyville"),
            ),
        ),
    ),
]
INDEX = OperationIndex(OPS)  # no encoder: name, words and filled parameters only


def _call(text: str) -> tuple[str | None, dict[str, object]]:
    m = INDEX.match(text)
    if m.command is None or m.command.intent != "call_api":
        return None, {}
    return m.command.api_operation, dict(m.command.api_params or {})


def test_distances_and_keys() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert phonetic_key("Xerox") == phonetic_key("Zerox")
    assert phonetic_key("Globex") == phonetic_key("Klobecks")
    assert closeness("IM", "IBM") is not None
    assert closeness("IBM", "IBM") is None  # the same word is no near-miss
    assert closeness("price", "Umbrella") is None


def test_lexicon_holds_enum_values_names_and_operation_words() -> None:
    terms = {t.lower() for t in lexicon_terms(OPS)}
    assert {"ibm", "globex", "umbrella", "springfield", "rainfall", "share", "company"} <= terms
    assert "2001" not in terms and "of" not in terms


def test_near_misses_of_enum_names_become_the_call() -> None:
    cases = {
        "umbrela share prices in 2003": ("quotes.getSharePrices", "UMBR"),
        "IM share prices for 2003": ("quotes.getSharePrices", "IBM"),
        "glow bex share prices in 2003": ("quotes.getSharePrices", "GLBX"),
        "Klobecks share prices in 2003": ("quotes.getSharePrices", "GLBX"),
    }
    for heard, (op, company) in cases.items():
        assert _call(heard) == (None, {}), heard  # as heard, no call
        out = snap(heard, INDEX)
        assert out.snaps, heard
        assert _call(out.text) == (op, {"company": company, "year": 2003}), (heard, out.text)


def test_town_names_snap_and_the_replacement_is_recorded() -> None:
    out = snap("rainfall in Springfeld", INDEX)
    assert out.text == "rainfall in Springfield"
    assert [(s.heard, s.term) for s in out.snaps] == [("Springfeld", "Springfield")]
    assert _call(out.text) == ("weather.getRainfall", {"town": "Springfield"})


def test_requests_that_already_match_are_left_alone() -> None:
    for text in ("umbrella share prices in 2003", "rainfall in Shelbyville"):
        out = snap(text, INDEX)
        assert out.text == text and not out.snaps


def test_requests_no_operation_fits_are_not_pulled_onto_one() -> None:
    # "globes" is one letter from "Globex", but the request is about no operation
    for text in ("tell me a joke about globes", "what did umbrela mean in my notes", "hello"):
        out = snap(text, INDEX)
        assert out.text == text and not out.snaps, text


def test_far_words_and_known_words_are_never_replaced() -> None:
    out = snap("share prices of banana in 2003", INDEX)  # banana is close to nothing
    assert out.text == "share prices of banana in 2003" and not out.snaps
    assert snap("", INDEX).text == ""
    assert snap("umbrela share prices in 2003", OperationIndex([])).snaps == []


def test_the_pipeline_snaps_spoken_text_only() -> None:
    events: list[object] = []
    heard = "umbrela share prices in 2003"
    spoken = stages.understand(heard, events.append, tools=INDEX, spoken=True)
    assert spoken.intent == "call_api"
    assert spoken.api_params == {"company": "UMBR", "year": 2003}
    snapped = [x for e in events for x in getattr(e, "data", {}).get("snapped") or []]
    assert [heard for heard, _ in snapped] == ["umbrela"]  # the understand event says what
    typed = stages.understand(heard, events.append, tools=INDEX)
    assert typed.intent != "call_api"  # typed text is matched as typed


def test_one_word_heard_for_two_is_cut_where_a_term_fits() -> None:
    heard = "IMSHARE prices in 2003"  # "IBM share prices" run together and misheard
    out = snap(heard, INDEX)
    assert _call(out.text) == ("quotes.getSharePrices", {"company": "IBM", "year": 2003}), out


def test_common_english_words_are_not_cut_or_sounded_alike() -> None:
    from cairn.command.lexicon_snap import _known, proposals

    terms = lexicon_terms(OPS)
    heard = {p.heard for p in proposals("the second townhall", terms, _known(terms))}
    assert "second" not in heard  # a word, far from every term: never cut into "se count"
    assert closeness("townhall", "town") is None
