"""Beam search for a token-by-token speech decoder, with shallow-fusion biasing and a guard
against repetition loops.

The model is reached through one callback: ``step(last, parents)`` runs the decoder once for
every live hypothesis (``last[i]`` is the token hypothesis ``i`` just emitted, ``parents[i]``
the index, among the previous step's hypotheses, of the one it extends, so the caller can
reorder its key/value cache) and returns the logits, one row per hypothesis. Width 1 is greedy
decoding. Each hypothesis keeps the sum of its tokens' log-probabilities, plus the
:class:`~cairn.models.stt_bias.WordBias` bonus of every token that continues an expected word;
finished hypotheses are compared by that sum divided by ``length ** length_penalty`` (0: raw
sums, which favour short outputs; 1: the mean per token).

A token that would make the end of a hypothesis a loop (the same ``n`` tokens three times in a
row, or one token :data:`MAX_SAME_TOKEN` times) is never taken: greedy decoding of a hard piece
of audio can otherwise repeat a phrase until the token limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cairn.models.stt_bias import WordBias

__all__ = ["MAX_SAME_TOKEN", "BeamSearch", "Hypothesis", "log_softmax", "makes_loop"]

#: One token repeated this many times in a row is a loop ("0000" in "10000" is not: 4 < 6).
MAX_SAME_TOKEN = 6
#: Longest repeated phrase (in tokens) the loop guard looks for.
MAX_LOOP_TOKENS = 12

StepFn = Callable[[list[int], list[int]], npt.NDArray[np.floating]]


def log_softmax(logits: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Log-probabilities of each row of ``logits`` (float64, numerically stable)."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    out: npt.NDArray[np.float64] = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    return out


def makes_loop(tokens: Sequence[int], token: int) -> bool:
    """Whether appending ``token`` ends ``tokens`` in a loop: a phrase of 2-12 tokens three
    times in a row, or one token :data:`MAX_SAME_TOKEN` times."""
    seq = [*tokens[-3 * MAX_LOOP_TOKENS :], token]
    if len(seq) >= MAX_SAME_TOKEN and len(set(seq[-MAX_SAME_TOKEN:])) == 1:
        return True
    for n in range(2, min(MAX_LOOP_TOKENS, len(seq) // 3) + 1):
        if seq[-n:] == seq[-2 * n : -n] == seq[-3 * n : -2 * n]:
            return True
    return False


@dataclass(frozen=True)
class Hypothesis:
    tokens: tuple[int, ...]
    #: Sum of log-probabilities plus the biasing bonuses earned.
    score: float

    def normalised(self, length_penalty: float) -> float:
        # +1 counts the end-of-text token, so an empty hypothesis is not divided by zero
        length = float(len(self.tokens) + 1)
        return float(self.score / length**length_penalty)


@dataclass(frozen=True)
class BeamSearch:
    """Decoding settings. ``decode`` turns token ids into text (needed with ``bias`` only)."""

    width: int = 1
    length_penalty: float = 1.0
    bias: WordBias | None = None
    decode: Callable[[list[int]], str] | None = None

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError(f"beam width must be at least 1, not {self.width}")
        if self.bias is not None and self.decode is None:
            raise ValueError("biased beam search needs decode (token ids to text)")

    def run(self, step: StepFn, *, bos: int, eos: int, max_tokens: int) -> list[int]:
        """The best hypothesis's tokens (without ``bos``/``eos``)."""
        live = [Hypothesis((), 0.0)]
        last, parents = [bos], [0]
        finished: list[Hypothesis] = []
        for _ in range(max_tokens):
            logprobs = log_softmax(step(last, parents))
            next_live: list[Hypothesis] = []
            last, parents = [], []
            for score, index, token in self._candidates(live, logprobs):
                tokens = live[index].tokens
                if token == eos:
                    finished.append(Hypothesis(tokens, score))
                elif not makes_loop(tokens, token):
                    next_live.append(Hypothesis((*tokens, token), score))
                    last.append(token)
                    parents.append(index)
                if len(next_live) == self.width:
                    break
            live = next_live
            if not live or self._settled(finished, live):
                break
        # out of tokens: what is still live competes as if it ended here
        pool = finished + live
        if not pool:
            return []
        best = max(pool, key=lambda h: h.normalised(self.length_penalty))
        return list(best.tokens)

    def _settled(self, finished: list[Hypothesis], live: list[Hypothesis]) -> bool:
        """Whether ``width`` transcripts have ended and none still live scores, as if it ended
        now, above the worst of the best ``width`` of them (Hugging Face's heuristic: with
        length normalisation a live hypothesis could still climb, but rarely does)."""
        if len(finished) < self.width:
            return False
        ended = sorted((h.normalised(self.length_penalty) for h in finished), reverse=True)
        bar = ended[self.width - 1]
        return all(h.normalised(self.length_penalty) <= bar for h in live)

    def _candidates(
        self, live: list[Hypothesis], logprobs: npt.NDArray[np.float64]
    ) -> list[tuple[float, int, int]]:
        """(score, hypothesis index, token) for the best extensions of every hypothesis,
        best first: the ``width + 1`` most likely tokens of each (the bias's ``top_k`` when
        biasing), each with its bonus."""
        k = self.width + 1
        if self.bias is not None:
            k = max(k, self.bias.top_k)
        k = min(k, logprobs.shape[-1])
        out: list[tuple[float, int, int]] = []
        for index, hyp in enumerate(live):
            row = logprobs[index]
            top = np.argpartition(row, -k)[-k:]
            bonus = np.zeros(k)
            if self.bias is not None and self.decode is not None:
                text = self.decode(list(hyp.tokens)) if hyp.tokens else ""
                bonus = self.bias.bonuses(text, top.tolist())
            for token, value in zip(top.tolist(), (row[top] + bonus).tolist(), strict=True):
                out.append((hyp.score + value, index, int(token)))
        out.sort(key=lambda c: (-c[0], c[1], c[2]))
        return out
