"""How well request text is turned into commands: intent accuracy and slot P/R/F1.

The command set (``cairn/command/commands.jsonl``) holds requests, typed and as transcribed
speech, each with a gold :class:`~cairn.command.model.Command` and a split: ``dev`` (looked at
while writing the grammar) or ``test`` (written first, never tuned on).

Slots are compared as ``(name, normalised value)`` pairs, micro-averaged over all items
(whatever the predicted intent): text values lowercased, apostrophes dropped, punctuation
turned into spaces, articles removed; ``licenses`` as one sorted set; each ``api_params`` key
as its own slot.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cairn.command.model import INTENTS, SLOT_NAMES, Command
from cairn.command.understand import CompletionModel, UnderstandError, understand
from cairn.errors import ConfigError

SPLITS = ("dev", "test", "all")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


@dataclass(frozen=True)
class CommandItem:
    id: str
    split: str
    style: str  # typed | spoken
    text: str
    gold: Command


def default_command_set() -> Path:
    return Path(str(resources.files("cairn.command").joinpath("commands.jsonl")))


def load_command_set(path: str | Path | None = None, split: str = "all") -> list[CommandItem]:
    """Items of the command set (``split``: dev, test or all)."""
    if split not in SPLITS:
        raise ConfigError("bad-split", f"split {split!r}: use one of {', '.join(SPLITS)}")
    source = Path(path) if path else default_command_set()
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError("no-command-set", f"cannot read {source}: {err}") from err
    items = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            item = CommandItem(
                id=str(row["id"]),
                split=str(row["split"]),
                style=str(row.get("style", "typed")),
                text=str(row["text"]),
                gold=Command.model_validate(row["gold"]),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise ConfigError("bad-command-set", f"{source}:{n}: {err}") from err
        if split == "all" or item.split == split:
            items.append(item)
    return items


def normalise_value(value: Any) -> str:
    """Lowercase, no apostrophes, punctuation -> space, no articles, single spaces."""
    text = str(value).lower().replace("'", "").replace("’", "")
    text = re.sub(r"[^\w\s]|_", " ", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def slot_pairs(command: Command) -> set[tuple[str, str]]:
    """The command's slots as comparable ``(name, normalised value)`` pairs."""
    pairs: set[tuple[str, str]] = set()
    for name, value in command.slots().items():
        if name not in SLOT_NAMES:
            continue
        if name == "licenses":
            pairs.add((name, " ".join(sorted(str(v).lower() for v in value))))
        elif name == "api_params":
            for key, v in value.items():
                pairs.add((f"api_params.{key}", normalise_value(v)))
        elif name in ("date_from", "date_to", "chart_kind"):
            pairs.add((name, str(value)))
        else:
            pairs.add((name, normalise_value(value)))
    return pairs


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[tuple[str, str]], pred: set[tuple[str, str]]) -> None:
        self.tp += len(gold & pred)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class IntentScore:
    n: int = 0
    correct: int = 0
    predicted: int = 0
    slots: PRF = field(default_factory=PRF)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0


@dataclass(frozen=True)
class Prediction:
    item: CommandItem
    command: Command | None
    error: str | None = None

    @property
    def intent(self) -> str:
        return self.command.intent if self.command else "error"

    @property
    def intent_ok(self) -> bool:
        return self.intent == self.item.gold.intent

    @property
    def slots_ok(self) -> bool:
        pred = slot_pairs(self.command) if self.command else set()
        return pred == slot_pairs(self.item.gold)


@dataclass
class CommandEvalReport:
    split: str
    engine: str
    predictions: list[Prediction]
    per_intent: dict[str, IntentScore]
    per_style: dict[str, IntentScore]
    slots: PRF
    engines_used: Counter[str]

    @property
    def n(self) -> int:
        return len(self.predictions)

    @property
    def intent_accuracy(self) -> float:
        return sum(p.intent_ok for p in self.predictions) / self.n if self.n else 0.0

    @property
    def exact_match(self) -> float:
        ok = sum(p.intent_ok and p.slots_ok for p in self.predictions)
        return ok / self.n if self.n else 0.0

    def errors(self) -> list[Prediction]:
        return [p for p in self.predictions if not (p.intent_ok and p.slots_ok)]

    def as_dict(self, *, with_errors: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "split": self.split,
            "engine": self.engine,
            "items": self.n,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "exact_match": round(self.exact_match, 4),
            "slots": self.slots.as_dict(),
            "per_intent": {
                name: {
                    "n": s.n,
                    "correct": s.correct,
                    "accuracy": round(s.accuracy, 4),
                    "precision": round(s.precision, 4),
                    "slot_f1": round(s.slots.f1, 4),
                }
                for name, s in self.per_intent.items()
            },
            "per_style": {
                name: {
                    "n": s.n,
                    "correct": s.correct,
                    "accuracy": round(s.accuracy, 4),
                    "slot_f1": round(s.slots.f1, 4),
                }
                for name, s in self.per_style.items()
            },
            "engines_used": dict(self.engines_used),
        }
        if with_errors:
            out["errors"] = [
                {
                    "id": p.item.id,
                    "text": p.item.text,
                    "gold": p.item.gold.model_dump(exclude_defaults=True),
                    "predicted": p.command.model_dump(
                        exclude_defaults=True, exclude={"clarification", "confidence"}
                    )
                    if p.command
                    else p.error,
                }
                for p in self.errors()
            ]
        return out


def evaluate_commands(
    items: Sequence[CommandItem],
    *,
    llm: CompletionModel | None = None,
    split: str = "all",
    grammar: bool = True,
) -> CommandEvalReport:
    """Run :func:`understand` over ``items`` and score intents and slots."""
    predictions: list[Prediction] = []
    for item in items:
        try:
            predictions.append(Prediction(item, understand(item.text, llm=llm, grammar=grammar)))
        except UnderstandError as err:
            predictions.append(Prediction(item, None, err.code))
    return score(
        predictions, split=split, engine=("grammar+llm" if grammar else "llm") if llm else "grammar"
    )


def score(predictions: Iterable[Prediction], *, split: str, engine: str) -> CommandEvalReport:
    preds = list(predictions)
    per_intent = {name: IntentScore() for name in INTENTS}
    per_style: dict[str, IntentScore] = {}
    overall = PRF()
    engines: Counter[str] = Counter()
    for p in preds:
        gold = slot_pairs(p.item.gold)
        pred = slot_pairs(p.command) if p.command else set()
        overall.add(gold, pred)
        for bucket in (
            per_intent[p.item.gold.intent],
            per_style.setdefault(p.item.style, IntentScore()),
        ):
            bucket.n += 1
            bucket.correct += p.intent_ok
            bucket.slots.add(gold, pred)
        if p.command:
            per_intent[p.command.intent].predicted += 1
            engines[p.command.engine] += 1
    per_intent = {k: v for k, v in per_intent.items() if v.n or v.predicted}
    return CommandEvalReport(split, engine, preds, per_intent, per_style, overall, engines)


def run_command_eval(
    split: str = "test",
    *,
    path: str | Path | None = None,
    llm: CompletionModel | None = None,
    grammar: bool = True,
) -> CommandEvalReport:
    items = load_command_set(path, split)
    return evaluate_commands(items, llm=llm, split=split, grammar=grammar)
