"""One request, end to end: stt -> understand -> act -> answer -> chart -> speak -> remember.

``run_pipeline(kb, audio=...)`` or ``run_pipeline(kb, text=...)`` returns a
:class:`PipelineResult`; events stream through ``on_event`` and every run is logged in the
knowledge base. See ``docs/pipeline.md``.
"""

from __future__ import annotations

from cairn.pipeline.run import PipelineResult, run_pipeline
from cairn.pipeline.stages import STAGES, AskOptions, PipelineError

__all__ = ["STAGES", "AskOptions", "PipelineError", "PipelineResult", "run_pipeline"]
