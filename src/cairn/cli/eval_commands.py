"""eval retrieval (and later: eval qa, eval speech)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cairn.cli.common import JsonOption, KbOption, console, errors_as_messages, print_json

eval_app = typer.Typer(
    help="Benchmarks: retrieval quality and latency, and more.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
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
    from cairn.eval.retrieval import KEY_METRICS, run_retrieval_eval
    from cairn.knowledge import open_kb

    with errors_as_messages(), open_kb(kb) as base:
        report = run_retrieval_eval(
            base,
            beir,
            split=split,
            modes=mode or ("keyword", "dense", "hybrid"),
            peers=() if no_peer else (peer or ("bm25s",)),
            limit_queries=limit,
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
    from cairn.eval.fusion_fit import fit_fusion
    from cairn.knowledge import open_kb

    with errors_as_messages(), open_kb(kb) as base:
        result = fit_fusion(base, beir, split=split, method=method)
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
    limit: Annotated[int, typer.Option(help="Documents to use.")] = 1000,
    json_out: JsonOption = False,
) -> None:
    """Ingest throughput (chunks/s) beside the embedding model's raw throughput."""
    from cairn.eval.ingest_bench import run_ingest_bench

    with errors_as_messages():
        r = run_ingest_bench(corpus, limit=limit)
    if json_out:
        print_json(r.as_dict())
        return
    console.print(
        f"{r.documents} documents, {r.chunks} chunks: raw embedding {r.raw_embed_chunks_per_s} "
        f"chunks/s; ingest {r.ingest_chunks_per_s} chunks/s ({r.ratio:.0%} of raw), with graph "
        f"{r.ingest_graph_chunks_per_s} chunks/s ({r.ratio_graph:.0%}); peak RSS {r.peak_rss_mb} MB"
    )
