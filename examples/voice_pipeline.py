"""Ask Cairn a question, spoken or typed, over the bundled demo collection.

    python examples/voice_pipeline.py                      # typed demo question
    python examples/voice_pipeline.py question.wav --speak answer.wav
    python examples/voice_pipeline.py --fast               # hashing embedder: no model load

Builds a knowledge base in a temporary folder, runs the whole pipeline (stt -> understand ->
act -> answer -> chart -> speak -> remember) and prints each stage, the cited answer and the
run id it was logged under.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cairn
from cairn.demo import DEMO_LICENSE, DEMO_QUESTION, DEMO_SOURCE_URL, demo_files
from cairn.events import Event, EventType
from cairn.models.embed import HashingEmbedder
from cairn.pipeline import run_pipeline


def show(event: Event) -> None:
    if event.type == EventType.stage_end:
        print(f"  {event.stage:<10} {event.data.get('seconds', 0.0):.2f} s")
    elif event.type == EventType.error:
        print(f"  {event.stage:<10} error {event.data['code']}: {event.data['message']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", nargs="?", type=Path, help="a spoken question (wav, mp3, ...)")
    parser.add_argument("--text", default=DEMO_QUESTION, help="typed question (no audio)")
    parser.add_argument("--speak", type=Path, help="write the spoken answer here (WAV)")
    parser.add_argument("--fast", action="store_true", help="hashing embedder (for tests)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        embedder = HashingEmbedder() if args.fast else None
        with cairn.open(Path(tmp) / "kb.sqlite", embedder=embedder) as kb:
            kb.ingest(
                demo_files(), collection="demo", license=DEMO_LICENSE, source_url=DEMO_SOURCE_URL
            )
            result = run_pipeline(
                kb,
                audio=args.audio,
                text=None if args.audio else args.text,
                speak_to=args.speak,
                on_event=show,
            )
    print(f"request: {result.transcript}")
    if result.error:
        print(f"error: {result.error.code}: {result.error.message}")
        return 1
    print(f"answer:\n{result.answer}")
    for c in result.citations:
        print(f"  [{c.n}] {c.title} ({c.license}), chars {c.start}-{c.end}")
    print(f"logged as run {result.run_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
