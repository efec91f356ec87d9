from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.ingest.chunker import ChunkerConfig, chunk_text
from cairn.text.sentences import split_sentences


def texts(t: str) -> list[str]:
    return [t[s.start : s.end] for s in split_sentences(t)]


def test_splits_on_terminal_punctuation_but_not_abbreviations() -> None:
    t = "Dr. Smith went to Washington, D.C. in 1999. He met J. Doe there! Was it fun? Yes."
    assert texts(t) == [
        "Dr. Smith went to Washington, D.C. in 1999.",
        "He met J. Doe there!",
        "Was it fun?",
        "Yes.",
    ]


def test_paragraph_breaks_end_sentences_and_decimals_do_not() -> None:
    t = "Growth was 3.5 percent e.g. in Q2\n\nNew paragraph here."
    assert texts(t) == ["Growth was 3.5 percent e.g. in Q2", "New paragraph here."]


def test_quotes_after_the_stop_stay_with_the_sentence() -> None:
    t = 'She said "It works." Then she left.'
    assert texts(t) == ['She said "It works."', "Then she left."]


def test_chunks_keep_exact_offsets_and_respect_max_chars() -> None:
    sentence = "The quick brown fox jumps over the lazy dog. "
    t = sentence * 100
    cfg = ChunkerConfig(max_chars=300, min_chars=100)
    chunks = chunk_text(t, cfg)
    assert len(chunks) > 10
    for c in chunks:
        assert t[c.start : c.end] == c.text
        assert len(c.text) <= 300
        assert c.text.startswith("The quick") and c.text.endswith("dog.")


def test_a_sentence_longer_than_max_chars_is_cut_at_whitespace() -> None:
    t = "word " * 500
    chunks = chunk_text(t, ChunkerConfig(max_chars=200, min_chars=50))
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)
    assert sum(c.text.count("word") for c in chunks) == 500


def test_paragraph_break_closes_a_chunk_once_it_is_long_enough() -> None:
    a = "First paragraph sentence number one is here. " * 4
    b = "Second paragraph starts now. " * 2
    chunks = chunk_text(a + "\n\n" + b, ChunkerConfig(max_chars=1000, min_chars=100))
    assert len(chunks) == 2
    assert chunks[1].text.startswith("Second paragraph")


def test_bad_config_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="max_chars"):
        ChunkerConfig(max_chars=10)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\"'A1")), max_size=400))
def test_offsets_always_round_trip(t: str) -> None:
    for s in split_sentences(t):
        assert t[s.start : s.end].strip() == t[s.start : s.end]
        assert s.end > s.start
    for c in chunk_text(t, ChunkerConfig(max_chars=60, min_chars=10)):
        assert t[c.start : c.end] == c.text
        assert c.text
