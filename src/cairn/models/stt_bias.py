"""Contextual biasing of a greedy speech decoder by shallow fusion over expected words.

Whisper is primed through its prompt (faster-whisper's ``hotwords``). A decoder without a prompt,
such as Moonshine, can still be told what to expect: at each step the candidate tokens that
continue one of the expected words (the knowledge base's names and terms, see
:mod:`cairn.models.stt_context`) get a bonus of :data:`DEFAULT_BONUS` nats on their
log-probability before the best one is taken. Only the :data:`TOP_K` most likely tokens are
candidates, so a word the audio does not support is never forced in; the bonus decides between
sounds the model already finds close ("clubs" against "cloves" in a card game).

A token earns the bonus when it completes an expected word, or when it continues a word the
decoder has already started and the letters so far (at least :data:`MIN_MATCH_CHARS`) begin an
expected word. A token that starts a word earns nothing for merely beginning an expected one:
greedy decoding cannot take a bonus back, and " found" beginning "foundation" turned "Who
patented a steam engine" into "Who found the dusty engine".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_BONUS",
    "MIN_MATCH_CHARS",
    "TOP_K",
    "WordBias",
    "bias_words",
]

#: Log-probability bonus (nats) for a token that continues an expected word. Chosen on the
#: synthetic round trips and the spoken API design requests, never on the real clips
#: (BENCHMARKS.md, "Moonshine with contextual biasing").
DEFAULT_BONUS = 2.0
#: Letters of an expected word a partial word must match before tokens earn the bonus.
MIN_MATCH_CHARS = 3
#: How many of the most likely tokens may be lifted by the bonus.
TOP_K = 8
MAX_WORDS = 400

#: Function words are never biased towards: the decoder hears them well, and a bonus on "the"
#: turns "a steam engine" into "the steam engine".
_FUNCTION_WORDS = frozenset(
    """
    the and for are was were but not you all any can had has have her his its our out who how
    why she one two what when where which with from that this than then them they their there
    these those into onto upon your yours our ours been being does did doing done will would
    shall should could may might must very also just only over under about after before
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_WORD = re.compile(r"[a-z][a-z']*")
_TAIL = re.compile(r"[a-z']*$")


def bias_words(context: str | None, limit: int = MAX_WORDS) -> list[str]:
    """The distinct lower-case words (3 letters or more, no function words) of a context line,
    in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall((context or "").lower()):
        word = word.strip("'")
        if len(word) >= MIN_MATCH_CHARS and word not in seen and word not in _FUNCTION_WORDS:
            seen[word] = None
            if len(seen) >= limit:
                break
    return list(seen)


@dataclass(frozen=True)
class WordBias:
    """Shallow fusion over ``words`` for a vocabulary whose token ``i`` reads ``pieces[i]``
    (lower case, a leading space where the token starts a word, ``""`` for special tokens)."""

    words: frozenset[str]
    prefixes: frozenset[str]
    pieces: tuple[str, ...]
    bonus: float = DEFAULT_BONUS
    top_k: int = TOP_K

    @classmethod
    def build(
        cls,
        words: Sequence[str],
        pieces: Sequence[str],
        *,
        bonus: float = DEFAULT_BONUS,
        top_k: int = TOP_K,
    ) -> WordBias:
        prefixes = {word[:n] for word in words for n in range(MIN_MATCH_CHARS, len(word) + 1)}
        pieces_lower = tuple(p.lower() for p in pieces)
        return cls(frozenset(words), frozenset(prefixes), pieces_lower, bonus, top_k)

    def choose(self, logits: npt.NDArray[np.floating], text: str) -> int:
        """The token to emit after ``text`` (decoded so far) given this step's ``logits``."""
        best = int(logits.argmax())
        if not self.prefixes or self.bonus <= 0:
            return best
        k = min(self.top_k, logits.size)
        top = np.argpartition(logits, -k)[-k:]
        # The bonus is in log-probability; the candidates of one step share its normaliser,
        # so comparing logits + bonus picks the same token without computing it.
        shifted = logits[top].astype(np.float64) - float(logits[best])
        word = _TAIL.search(text.lower())
        current = word.group(0) if word else ""
        best_score = -np.inf
        for token, score in zip(top.tolist(), shifted.tolist(), strict=True):
            if self._continues(current, token):
                score += self.bonus
            if score > best_score:
                best, best_score = int(token), score
        return best

    def bonuses(self, text: str, tokens: Sequence[int]) -> npt.NDArray[np.float64]:
        """The bonus each of ``tokens`` earns after ``text`` (decoded so far): for beam search."""
        word = _TAIL.search(text.lower())
        current = word.group(0) if word else ""
        return np.array(
            [self.bonus if self._continues(current, t) else 0.0 for t in tokens],
            dtype=np.float64,
        )

    def _continues(self, current: str, token: int) -> bool:
        if not 0 <= token < len(self.pieces):
            return False
        piece = self.pieces[token]
        if not piece:
            return False
        starts_word = piece[0].isspace() or not current
        if piece[0].isspace():
            current, piece = "", piece.lstrip()
        if not piece or _TAIL.fullmatch(piece) is None:
            return False  # the token ends the word (punctuation) or holds no letters
        word = current + piece
        if word in self.words:
            return True
        return not starts_word and len(word) >= MIN_MATCH_CHARS and word in self.prefixes
