"""ask (with --synthesize, --llm) and chat: grounded answers with citations, or abstention."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from cairn.cli.common import JsonOption, KbOption, console, errors_as_messages, open_kb, print_json

if TYPE_CHECKING:
    from cairn.answer.types import Answer
    from cairn.models.llm import LLM

LlmOption = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="Phrase answers with a language model: 'local' (llama.cpp + packaged SmolLM2, "
        "needs the llm extra) or an OpenAI-compatible base URL such as "
        "http://127.0.0.1:8080/v1 (model name from $CAIRN_LLM_MODEL). Every generated "
        "sentence is checked against what it cites; failures are dropped.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.command()(ask)
    app.command()(chat)


def load_llm(spec: str | None, *, timeout: float | None = None) -> LLM:
    """``cairn.models.llm.load_llm``, imported on first use."""
    from cairn.models import llm

    return llm.load_llm(spec, timeout=timeout)


def _prepare_llm(spec: str | None) -> LLM | None:
    if not spec:
        return None
    from cairn.cli.progress import step

    llm = load_llm(spec)
    with step("loading the language model"):
        llm.warm_up()  # a missing package or model file fails here, with its install hint
    return llm


def ask(
    question: Annotated[str, typer.Argument(help="The question (or claim, with --synthesize).")],
    collection: Annotated[
        list[str] | None, typer.Option("--collection", help="Only these collections.")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Search hits to read.")] = 5,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every candidate and its support signals.")
    ] = False,
    synthesize_claim: Annotated[
        bool,
        typer.Option(
            "--synthesize",
            help="Treat the text as a claim: evidence for and against it, per source.",
        ),
    ] = False,
    two_hop: Annotated[
        bool,
        typer.Option(
            "--two-hop/--no-two-hop",
            help="Follow a bridge entity or a comparison to a second sentence, citing both "
            "(on by default; --no-two-hop cites one sentence at most).",
        ),
    ] = True,
    llm: LlmOption = None,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Answer a question from your documents, quoting and citing the sources.

    Without --llm no language model is used: the answer is copied from the sources.
    """
    from cairn.answer.ask import ask as ask_question
    from cairn.answer.synthesize import synthesize

    with errors_as_messages(), open_kb(kb) as base:
        if synthesize_claim:
            syn = synthesize(base, question, collections=collection or ())
            if json_out:
                print_json(syn.to_dict())
            else:
                console.print(escape(syn.text), highlight=False, soft_wrap=True)
            return
        model = _prepare_llm(llm)
        answer = ask_question(
            base,
            question,
            collections=collection or (),
            k=k,
            explain=explain,
            llm=model,
            two_hop=two_hop,
        )
    if json_out:
        print_json(answer.to_dict())
        return
    print_answer(answer, explain)


def print_answer(answer: Answer, explain: bool = False) -> None:
    style = "yellow" if answer.abstained else "bold"
    console.print(f"[{style}]{escape(answer.text)}[/]", highlight=False, soft_wrap=True)
    if not answer.abstained:
        for c in answer.citations:
            console.print(
                f"[dim][{c.n}] {escape(c.title or c.doc_key)} · {escape(c.source)} · "
                f"licence {escape(c.license or 'unknown')} · chars {c.start}-{c.end}[/]",
                highlight=False,
                soft_wrap=True,
            )
    if explain:
        console.print(
            f"[dim]mode {answer.mode}; support {answer.support:.3f} "
            f"(threshold {answer.threshold:.3f})[/]",
            highlight=False,
        )
        if answer.decided_by:
            console.print(f"[dim]decided by {escape(answer.decided_by)}[/]", highlight=False)
        for line in chain_lines(answer):
            console.print(f"[dim]{escape(line)}[/]", highlight=False, soft_wrap=True)
        for chk in answer.checks:
            mark = "kept" if chk.passed else "dropped"
            console.print(
                f"[dim]{mark}: {escape(chk.text)} (cites {list(chk.cites)}; {escape(chk.reason)}; "
                f"cosine {chk.cosine:.2f})[/]",
                highlight=False,
                soft_wrap=True,
            )
        for i, cand in enumerate(answer.candidates, start=1):
            feats = ", ".join(f"{k} {v:.2f}" for k, v in cand.features.items())
            console.print(
                f"[dim]{i}. support {cand.support:.3f} span {escape(repr(cand.span))} "
                f"({cand.span_label}) · {escape(cand.evidence.title or cand.evidence.doc_key)} "
                f"chars {cand.evidence.start}-{cand.evidence.end}\n   {escape(feats)}[/]",
                highlight=False,
                soft_wrap=True,
            )


def chain_lines(answer: Answer) -> list[str]:
    """A two-hop answer's chain: hop 1 sentence -> bridge entity -> hop 2 sentence."""
    by_n = {c.n: c for c in answer.citations}
    out = []
    for link in answer.chain:
        one, two = by_n[link.from_n], by_n[link.to_n]
        via = f"bridge {link.bridge!r}" if link.bridge else "compared with"
        out.append(
            f"hop 1 [{one.n}] \u201c{one.quote}\u201d -> {via} -> hop 2 [{two.n}] "
            f"\u201c{two.quote}\u201d"
        )
    return out


def chat(
    collection: Annotated[
        list[str] | None, typer.Option("--collection", help="Only these collections.")
    ] = None,
    save: Annotated[
        Path | None, typer.Option("--save", help="Write the transcript (JSON) to this file.")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Search hits to read.")] = 5,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show support and every generated sentence.")
    ] = False,
    llm: LlmOption = None,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Ask questions one line at a time (stdin); follow-ups like "and in 2019?" or "who
    built it?" are rewritten against the previous turn. Every answer cites. /quit ends."""
    from cairn.answer.chat import ChatSession
    from cairn.answer.types import AnswerError

    interactive = sys.stdin.isatty()
    with errors_as_messages(), open_kb(kb) as base:
        session = ChatSession(base, _prepare_llm(llm), collections=collection or (), k=k)
        try:
            while True:
                if interactive:
                    console.print("[bold]?[/] ", end="")
                line = sys.stdin.readline()
                if not line:
                    break
                text = line.strip()
                if not text:
                    continue
                if text in ("/quit", "/exit", "/q"):
                    break
                try:
                    turn = session.ask(text)
                except AnswerError as err:
                    console.print(f"[red]{escape(err.message)}[/]", highlight=False)
                    continue
                if json_out:
                    print_json(turn.to_dict())
                    continue
                if turn.rewritten:
                    console.print(f"[dim]» {escape(turn.query)}[/]", highlight=False)
                print_answer(turn.answer, explain)
        finally:
            if save is not None:
                path = session.save(save)
                if not json_out:
                    console.print(
                        f"[dim]transcript ({len(session.turns)} turns) saved to {path}[/]",
                        highlight=False,
                    )
