"""Primed (what `cairn voice` does) vs unprimed Whisper on the same WAVs, then the matcher.

    python bench/spoken_api_bench.py --voices neural --sample 10 --wav-dir /tmp/wavs
    python bench/spoken_api_priming.py /tmp/wavs

Each WAV (named ID-VOICE.wav) is transcribed twice by the packaged Whisper base, unprimed and
primed with the three documents' words as the pipeline primes it, and the transcript is matched
against all 12 operations; a request counts when operation and parameters are exactly right.
"""

import json
import sys
from pathlib import Path

from cairn.command.operations import from_api_tool
from cairn.command.schema_match import OperationIndex
from cairn.eval.spoken_api import load_requests, params_match
from cairn.models.embed import packaged_minilm
from cairn.models.stt import load_stt
from cairn.models.stt_context import context_text, tool_terms
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool

docs = ("markets", "nyair", "history")
tools = [
    ApiTool(
        n,
        parse_spec(
            json.loads(Path(f"bench/spoken_api/{n}.openapi.json").read_text()),
            base_url="http://127.0.0.1:1",
        ),
        ("127.0.0.1",),
    )
    for n in docs
]
words = tool_terms(tools)
ctx = context_text([*words[: 2 * len(tools)], *words])
index = OperationIndex([op for t in tools for op in from_api_tool(t)], packaged_minilm())
reqs = {
    r.id: (d, r) for d in docs for r in load_requests(Path(f"bench/spoken_api/{d}.requests.jsonl"))
}
stt = load_stt()
primed = stt.with_context(ctx)
score = {"plain": 0, "primed": 0}
n = 0
for wav in sorted(Path(sys.argv[1]).glob("*.wav")):
    rid = "-".join(wav.stem.split("-")[:2])
    doc, r = reqs[rid]
    n += 1
    for name, model in (("plain", stt), ("primed", primed)):
        t = model.transcribe(wav, language="en").text.strip()
        m = index.match(t)
        ok = bool(
            m.command
            and m.command.intent == "call_api"
            and m.command.api_operation == f"{doc}.{r.operation}"
            and params_match(m.command.api_params or {}, r.params)
        )
        score[name] += ok
        print(f"{rid} {name:6} {'ok ' if ok else 'BAD'} {t!r}", flush=True)
print(n, score)
