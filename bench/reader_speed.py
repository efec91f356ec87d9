"""Raw speed of the answer-sentence reader beside the sentence encoder it was trained from.

Both are all-MiniLM-L6-v2 on onnxruntime: the encoder embeds texts one at a time (int8 graph),
the reader reads (question, sentence) pairs together (float32 arithmetic). ``ask`` reads 6
pairs per question, so "6 pairs" is its per-question cost. Medians of ``--repeat`` runs.

Run: ``python bench/reader_speed.py [--repeat 50]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from cairn.answer.reader import packaged_reader, pair_text
from cairn.models.embed import packaged_minilm

QUESTION = "In what country is Normandy located?"
SENTENCES = [
    "The Normans were the people who in the 10th and 11th centuries gave their name to "
    "Normandy, a region in France.",
    "They were descended from Norse raiders and pirates from Denmark, Iceland and Norway.",
    "Through generations of assimilation their descendants would gradually merge with the "
    "Carolingian-based cultures of West Francia.",
    "The distinct cultural and ethnic identity of the Normans emerged initially in the first "
    "half of the 10th century.",
    "Normandy was a duchy.",
    "It continued to evolve over the succeeding centuries.",
]


def _median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    reader = packaged_reader()
    assert reader is not None
    encoder = packaged_minilm()
    passages = [pair_text("Normans", s) for s in SENTENCES]
    reader.logits(QUESTION, passages)
    encoder.embed_batch([QUESTION, *SENTENCES])
    out = {
        "reader_6_pairs_ms": _median_ms(lambda: reader.logits(QUESTION, passages), args.repeat),
        "reader_1_pair_ms": _median_ms(lambda: reader.logits(QUESTION, passages[:1]), args.repeat),
        "encoder_7_texts_ms": _median_ms(
            lambda: encoder.embed_batch([QUESTION, *SENTENCES]), args.repeat
        ),
    }
    out["reader_pairs_per_s"] = 6000 / out["reader_6_pairs_ms"]
    out["encoder_texts_per_s"] = 7000 / out["encoder_7_texts_ms"]
    print(json.dumps({k: round(v, 1) for k, v in out.items()}, indent=1))


if __name__ == "__main__":
    main()
