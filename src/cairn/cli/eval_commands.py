"""eval retrieval (and later: eval qa, eval speech)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cairn.cli.common import JsonOption, KbOption, console, errors_as_messages, print_json

eval_app = typer.Typer(
    help="Benchmarks: retrieval quality and latency, and more.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    from cairn.cli import command_commands, function_commands

    eval_app.command("commands")(command_commands.eval_commands_cli)
    eval_app.command("functions")(function_commands.eval_functions_cli)
    app.add_typer(eval_app, name="eval")


@eval_app.command("retrieval")
def retrieval(
    beir: Annotated[
        Path, typer.Option("--beir", help="BEIR-style folder (corpus, queries, qrels).")
    ],
    split: Annotated[str, typer.Option(help="Qrels split to score.")] = "test",
    mode: Annotated[
        list[str] | None, typer.Option("--mode", help="Modes to run (default: all three).")
    ] = None,
    peer: Annotated[
        list[str] | None, typer.Option("--peer", help="Peer systems to run beside (bm25s).")
    ] = None,
    no_peer: Annotated[bool, typer.Option("--no-peer", help="Run no peer.")] = False,
    limit: Annotated[int | None, typer.Option(help="Only the first N queries.")] = None,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """nDCG@10, Recall@100, MRR@10 and latency p50/p95 per search mode."""
    from cairn.cli.progress import event_progress
    from cairn.knowledge import open_kb
    from cairn_eval.retrieval import KEY_METRICS, run_retrieval_eval

    # Ingesting a corpus takes minutes: show the files, chunks embedded and queries run.
    with errors_as_messages(), open_kb(kb) as base, event_progress(quiet=json_out) as on_event:
        report = run_retrieval_eval(
            base,
            beir,
            split=split,
            modes=mode or ("keyword", "dense", "hybrid"),
            peers=() if no_peer else (peer or ("bm25s",)),
            limit_queries=limit,
            on_event=on_event,
        )
    if json_out:
        print_json(report.as_dict())
        return
    table = Table(
        "mode",
        *KEY_METRICS,
        "p50 ms",
        "p95 ms",
        title=f"{report.dataset} {report.split}: {report.queries} queries, "
        f"{report.documents} documents, {report.chunks} chunks",
    )
    for r in report.modes + report.peers:
        table.add_row(
            r.mode,
            *(f"{r.metrics[m]:.4f}" for m in KEY_METRICS),
            f"{r.latency_ms['p50']:.1f}",
            f"{r.latency_ms['p95']:.1f}",
        )
    console.print(table)
    console.print(f"ingest: {report.ingest}; peak RSS {report.peak_rss_mb:.0f} MB")


@eval_app.command("fit-fusion")
def fit_fusion_command(
    beir: Annotated[Path, typer.Option("--beir", help="BEIR-style folder with a train split.")],
    split: Annotated[
        str, typer.Option(help="Split to fit on (never the one you report).")
    ] = "train",
    method: Annotated[str, typer.Option(help="convex or rrf.")] = "convex",
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Grid-search the hybrid fusion weights for nDCG@10 on a train split."""
    from cairn.cli.progress import event_progress
    from cairn.knowledge import open_kb
    from cairn_eval.fusion_fit import fit_fusion

    with errors_as_messages(), open_kb(kb) as base, event_progress(quiet=json_out) as on_event:
        result = fit_fusion(base, beir, split=split, method=method, on_event=on_event)
    if json_out:
        print_json({"weights": result.weights, "ndcg@10": result.ndcg10, "queries": result.queries})
        return
    console.print(
        f"best {method} weights on {split} ({result.queries} queries): {result.weights} "
        f"-> nDCG@10 {result.ndcg10:.4f}"
    )


@eval_app.command("ingest")
def ingest_bench(
    corpus: Annotated[
        Path, typer.Option("--corpus", help="A JSONL corpus, e.g. BEIR corpus.jsonl.")
    ],
    limit: Annotated[int, typer.Option(help="Documents to use.")] = 300,
    repeats: Annotated[int, typer.Option(help="Alternating repeats; medians reported.")] = 3,
    json_out: JsonOption = False,
) -> None:
    """Ingest throughput (chunks/s) beside the embedding model's raw throughput."""
    from cairn_eval.ingest_bench import run_ingest_bench

    with errors_as_messages():
        r = run_ingest_bench(corpus, limit=limit, repeats=repeats)
    if json_out:
        print_json(r.as_dict())
        return
    console.print(
        f"{r.documents} documents, {r.chunks} chunks: raw embedding {r.raw_embed_chunks_per_s} "
        f"chunks/s; ingest {r.ingest_chunks_per_s} chunks/s ({r.ratio:.0%} of raw), with graph "
        f"{r.ingest_graph_chunks_per_s} chunks/s ({r.ratio_graph:.0%}); peak RSS {r.peak_rss_mb} MB"
    )


@eval_app.command("qa")
def qa_command(
    squad: Annotated[
        Path,
        typer.Option("--squad", help="SQuAD 2.0 JSON (dev-v2.0.json format)."),
    ] = Path("../shared/benchdata/squad2-dev-half/dev-v2.0.json"),
    kb: Annotated[
        str | None,
        typer.Option(
            "--kb",
            help="Knowledge base to ingest the SQuAD paragraphs into (cached between runs; "
            "default: squad-kb.sqlite in the temporary folder, never your own KB).",
            show_default=False,
        ),
    ] = None,
    limit_fit: Annotated[
        int | None, typer.Option("--limit-fit", help="Fit-article questions (evenly spaced).")
    ] = None,
    limit_report: Annotated[
        int | None,
        typer.Option("--limit-report", help="Report-article questions (evenly spaced)."),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the risk-coverage curve (fit and report) as a PNG."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the full report JSON to this file.")
    ] = None,
    fit: Annotated[
        bool,
        typer.Option(
            "--fit",
            help="Refit the support model and its threshold on the fit articles (the report "
            "articles are never seen).",
        ),
    ] = False,
    save_weights: Annotated[
        bool,
        typer.Option("--save-weights", help="With --fit: write the packaged verifier.json."),
    ] = False,
    adapted: Annotated[
        Path | None,
        typer.Option(
            "--adapted",
            help="A version folder written by `cairn adapt` (its reader and support model "
            "answer; the packaged ones answer the same questions as the peer).",
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Grounded QA on SQuAD 2.0: answered-and-grounded, abstention, precision, latency."""
    import json
    import tempfile

    from cairn.answer.verify import WEIGHTS_PATH
    from cairn.errors import ConfigError
    from cairn.knowledge import open_kb
    from cairn_eval.qa import plot_risk_coverage, run_qa_eval

    tmp = Path(tempfile.gettempdir())
    with errors_as_messages():
        if save_weights and not fit:
            raise ConfigError(
                "bad-option", "--save-weights writes a refitted model: pass --fit with it"
            )
        if not squad.is_file():
            raise ConfigError("missing-data", f"no SQuAD file at {squad} (pass --squad PATH)")
        if adapted is not None and (fit or not (adapted / "manifest.json").is_file()):
            raise ConfigError(
                "bad-option",
                f"--adapted {adapted}: needs a version folder with manifest.json, without --fit",
            )
        with open_kb(kb or tmp / "squad-kb.sqlite") as base:
            report = run_qa_eval(
                base,
                data=squad,
                corpus=tmp / "squad-corpus" / "squad.jsonl",
                limit_fit=limit_fit,
                limit_report=limit_report,
                fit=fit,
                save_weights=WEIGHTS_PATH if fit and save_weights else None,
                adapted=adapted,
            )
    if out is not None:
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if plot is not None:
        plot_risk_coverage(report, plot)
    if json_out:
        print_json(report)
        return
    table = Table("", "fit articles", "report articles", title=report["dataset"])
    rows = (
        ("questions", "questions", "{:d}"),
        ("answered+grounded (answerable)", "answered_grounded_answerable", "{:.1%}"),
        ("coverage (answerable)", "coverage_answerable", "{:.1%}"),
        ("abstention (unanswerable)", "abstention_unanswerable", "{:.1%}"),
        ("precision of answers given", "precision", "{:.1%}"),
        ("overall accuracy", "overall_accuracy", "{:.3f}"),
        ("always-abstain baseline", "always_abstain_accuracy", "{:.3f}"),
        ("span EM / F1", None, ""),
    )
    for label, key, fmt in rows:
        if key is None:
            cells = [
                f"{report[s]['span_exact_match']:.3f} / {report[s]['span_f1']:.3f}"
                for s in ("fit", "report")
            ]
        else:
            cells = [fmt.format(report[s][key]) for s in ("fit", "report")]
        table.add_row(label, *cells)
    console.print(table)
    lat = report["latency_ms_report"]
    console.print(
        f"threshold {report['model']['threshold']}; ask latency p50 {lat.get('p50', 0):.0f} ms, "
        f"p95 {lat.get('p95', 0):.0f} ms" + (f"; plot: {plot}" if plot else "")
    )
    for name, row in report.get("span_choice_report", {}).items():
        console.print(
            f"short answer, {name}: EM {row['span_exact_match']:.3f} / F1 {row['span_f1']:.3f}"
            f" over {row['answered_answerable']} answered answerable; shown "
            f"{row['span_shown']:.1%}, EM of shown {row['span_exact_match_of_shown']:.3f}"
        )


BeamSizeOption = Annotated[
    int, typer.Option("--beam-size", min=1, max=16, help="1: greedy (the default).")
]
WindowPadOption = Annotated[
    float | None,
    typer.Option(
        "--window-pad",
        min=0.0,
        max=30.0,
        help="Whisper only: encode the clip plus this many seconds instead of a 30 s window.",
        show_default=False,
    ),
]


def stt_options(beam_size: int, window_pad: float | None) -> dict[str, Any]:
    """``load_stt`` options for the flags given (none for defaults: Moonshine refuses some)."""
    options: dict[str, Any] = {}
    if beam_size != 1:
        options["beam_size"] = beam_size
    if window_pad is not None:
        options["window_pad_seconds"] = window_pad
    return options


@eval_app.command("speech")
def speech_command(
    data: Annotated[
        Path,
        typer.Option("--data", help="A LibriSpeech-style folder (*.trans.txt beside the clips)."),
    ] = Path("../shared/benchdata/librispeech-sample"),
    pocketsphinx: Annotated[
        Path,
        typer.Option(
            "--pocketsphinx", help="Debian pocketsphinx-testdata folder (librivox, cards, ...)."
        ),
    ] = Path("/usr/share/pocketsphinx/test/data"),
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Speech-to-text model: default (packaged Whisper base), tiny (packaged "
            "tiny.en), moonshine (packaged Moonshine base-en), a CTranslate2 folder or a "
            "faster-whisper model name.",
            show_default=False,
        ),
    ] = None,
    round_trip: Annotated[
        bool,
        typer.Option(
            "--round-trip/--no-round-trip",
            help="Also speak fixed sentences and transcribe them back.",
        ),
    ] = True,
    round_trip_tts: Annotated[
        str,
        typer.Option("--tts", help="Voice for the round trip: espeak-ng or neural."),
    ] = "espeak-ng",
    beam_size: BeamSizeOption = 1,
    window_pad: WindowPadOption = None,
    show_clips: Annotated[bool, typer.Option("--clips", help="List every clip.")] = False,
    bias: Annotated[
        bool,
        typer.Option(
            "--bias/--no-bias",
            help="Prime the model with context words: other clips' words of the same set; "
            "the demo collection's for the round trip.",
        ),
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Speech-to-text word error rate and real-time factor on real recordings."""
    import shutil

    from cairn.models.stt import load_stt
    from cairn.models.tts import load_tts
    from cairn_eval.speech import run_speech_eval

    with errors_as_messages():
        stt = load_stt(model, **stt_options(beam_size, window_pad))
        tts = None
        if round_trip and (not round_trip_tts.startswith("espeak") or shutil.which("espeak-ng")):
            tts = load_tts(round_trip_tts)
        report = run_speech_eval(
            stt, librispeech=data, pocketsphinx=pocketsphinx, tts=tts, bias=bias
        )
    out = report.as_dict()
    if json_out:
        print_json(out)
        return
    table = Table(
        "set", "clips", "WER", "errors/words", "RTF median", "s/clip median", title=report.model
    )
    rows = [*out["sets"].items(), ("all", out["overall"])]
    if "round_trip" in out:
        rows.append((f"round trip ({out['round_trip']['tts']})", out["round_trip"]))
    for name, s in rows:
        table.add_row(
            name,
            str(s["clips"]),
            f"{s['wer']:.1%}",
            f"{s['errors']}/{s['words']}",
            f"{s['rtf_median']:.3f}",
            f"{s['seconds_per_clip_median']:.2f}",
        )
    console.print(table)
    if show_clips:
        clips = out["clips"] + out.get("round_trip", {}).get("sentences", [])
        for c in clips:
            console.print(
                f"{c['set']} {c['id']}: {c['errors']}/{c['words']} rtf {c['rtf']:.2f}\n"
                f"  ref {c['reference']}\n  hyp {c['hypothesis']}",
                highlight=False,
                markup=False,
            )


@eval_app.command("voice")
def voice_command(
    runs: Annotated[int, typer.Option(help="Timed runs (after one warm-up run).")] = 5,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Speech-to-text model (default: packaged Whisper base; tiny: tiny.en; "
            "moonshine: Moonshine base-en).",
            show_default=False,
        ),
    ] = None,
    tts_spec: Annotated[
        str,
        typer.Option(
            "--tts", help="Speech engine for the question and the answer (espeak-ng, neural)."
        ),
    ] = "espeak-ng",
    question: Annotated[
        str | None,
        typer.Option("--question", help="The question to speak (default: the demo question)."),
    ] = None,
    beam_size: BeamSizeOption = 1,
    window_pad: WindowPadOption = None,
    json_out: JsonOption = False,
) -> None:
    """Spoken question -> spoken answer on the demo collection: p50 time, time to first
    audio, inference share."""
    from cairn.demo import DEMO_QUESTION
    from cairn.models.embed import load_embedder
    from cairn.models.stt import load_stt
    from cairn.models.tts import load_tts
    from cairn_eval.voice import run_voice_eval

    with errors_as_messages():
        stt = load_stt(model, **stt_options(beam_size, window_pad))
        stt.warm_up()
        tts = load_tts(tts_spec)
        report = run_voice_eval(
            stt=stt,
            tts=tts,
            embedder=load_embedder(),
            question=question or DEMO_QUESTION,
            runs=runs,
        )
    out = report.as_dict()
    if json_out:
        print_json(out)
        return
    parts = ", ".join(f"{k} {v:.3f}" for k, v in out["parts_p50_s"].items())
    console.print(
        f"{out['runs']} runs, question {out['question_audio_seconds']:.1f} s of audio "
        f"({report.stt}, {report.tts}, {report.embedder}, {report.spans})\n"
        f"p50 {out['p50_s']:.3f} s (target <= {out['target']['p50_s']} s), p95 "
        f"{out['p95_s']:.3f} s; first audio p50 {out['first_audio_p50_s']:.3f} s (target <= "
        f"{out['target']['first_audio_p50_s']} s); "
        f"inference p50 {out['inference_p50_s']:.3f} s ({parts}); "
        f"everything else p50 {out['other_p50_s']:.3f} s, share "
        f"{out['other_share_median']:.1%} (target <= {out['target']['other_share']:.0%})\n"
        f"heard: {report.runs[0].transcript if report.runs else ''}\n"
        f"answer: {report.runs[0].answer if report.runs else ''}",
        highlight=False,
        markup=False,
    )


@eval_app.command("claims")
def claims_command(
    data: Annotated[
        Path,
        typer.Option("--data", help="SciFact original_format folder (corpus + claims_*.jsonl)."),
    ] = Path("../shared/benchdata/scifact/original_format"),
    kb: Annotated[
        str | None,
        typer.Option(
            "--kb",
            help="KB holding the SciFact corpus (collection beir-scifact) for the evidence-recall "
            "part; without it only the gold-document labelling is scored.",
            show_default=False,
        ),
    ] = None,
    fit: Annotated[
        bool, typer.Option("--fit", help="Refit the contradiction model on claims_train first.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N claims for the recall part.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the full report JSON to this file.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """SciFact dev claims: supports/contradicts accuracy on the gold documents beside the
    majority label, and evidence-sentence recall from the whole corpus."""
    import json

    from cairn.knowledge import open_kb
    from cairn_eval.claims import run_claims_eval

    with errors_as_messages():
        if kb is None:
            report = run_claims_eval(None, data=data, fit=fit)
        else:
            if not Path(kb).expanduser().is_file():
                from cairn.errors import ConfigError

                raise ConfigError("missing-data", f"no knowledge base at {kb} (pass --kb PATH)")
            with open_kb(kb) as base:
                report = run_claims_eval(base, data=data, fit=fit, limit_claims=limit)
    if out is not None:
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if json_out:
        print_json(report)
        return
    lab = report["labels_given_gold_documents"]
    console.print(
        f"{report['dataset']}: {lab['pairs']} claim-document pairs {lab['labels']}\n"
        f"label accuracy {lab['accuracy']:.1%} (majority label {lab['majority_label']}: "
        f"{lab['majority_baseline']:.1%}); strict 3-way {lab['strict_accuracy']:.1%}; "
        f"CONTRADICT recall {lab['contradict_recall']:.1%}",
        highlight=False,
    )
    ret = report.get("evidence_retrieval")
    if ret:
        lat = ret["latency_ms"]
        console.print(
            f"evidence-sentence recall {ret['sentence_recall']:.1%} of "
            f"{ret['gold_rationale_sentences']} gold sentences ({ret['cited_sentences_per_claim']} "
            f"cited per claim; lead baseline {ret['lead_baseline_recall']:.1%}; gold document "
            f"in the top {ret['k']} {ret['gold_document_recall_at_k']:.1%}); synthesize p50 "
            f"{lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms",
            highlight=False,
        )


@eval_app.command("hotpot")
def hotpot_command(
    data: Annotated[
        Path, typer.Option("--data", help="HotpotQA JSON: [{question, answer, evidence}].")
    ] = Path("../shared/benchdata/hotpotqa-1000/test.json"),
    kb: Annotated[
        str | None,
        typer.Option(
            "--kb",
            help="Fresh KB to ingest the evidence sentences into (cached between runs; default: "
            "hotpot-kb.sqlite in the temporary folder, never your own KB).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N questions.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the full report JSON to this file.")
    ] = None,
    half: Annotated[
        str,
        typer.Option(
            "--half", help="all, even or odd questions (two-hop was tuned on even: report odd)."
        ),
    ] = "all",
    json_out: JsonOption = False,
) -> None:
    """HotpotQA: share of questions whose answer string is in the cited evidence."""
    import json
    import tempfile

    from cairn.knowledge import open_kb
    from cairn_eval.hotpot import run_hotpot_eval

    tmp = Path(tempfile.gettempdir())
    with errors_as_messages():
        from cairn_eval.hotpot import load_hotpot

        load_hotpot(data)  # a clear error before any KB is created
        with open_kb(kb or tmp / "hotpot-kb.sqlite") as base:
            report = run_hotpot_eval(
                base,
                data=data,
                corpus=tmp / "hotpot-corpus" / "hotpot.jsonl",
                limit=limit,
                half=half,
            )
    if out is not None:
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if json_out:
        print_json(report)
        return
    sp = report["span"]
    lat = report["latency_ms"]
    console.print(
        f"{report['dataset']}\nanswered {report['answered']:.1%}, abstained "
        f"{report['abstained']:.1%}; answer in cited evidence: "
        f"{report['precision_answer_in_cited']:.1%} "
        f"of answered, {report['answer_in_cited_all']:.1%} of all (abstentions = misses)\n"
        f"span answers ({report['span_questions']}): {sp['precision_answer_in_cited']:.1%} of "
        f"answered, {sp['answer_in_cited_all']:.1%} of all; no abstention "
        f"{sp['no_abstention_answer_in_cited']:.1%}; top-hit sentence baseline "
        f"{sp['baseline_top_hit_sentence']:.1%}; in top-{report['k']} passages "
        f"{sp['ceiling_answer_in_top_k_passages']:.1%}\nask p50 {lat['p50']:.0f} ms, p95 "
        f"{lat['p95']:.0f} ms",
        highlight=False,
    )
