"""How ``--help`` reads: conventional usage lines, whole sentences, whole paths.

Typer's defaults tag every option with its Python type (``--help <bool>``, ``--k <int>``), write
required arguments as ``{query}``, keep the single line breaks of a docstring (so an 80-column
summary breaks mid-sentence) and cut long defaults with an ellipsis. :func:`tidy_help` fixes
these for a whole app, so a command module added later needs nothing of its own.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import typer
from typer import core

if TYPE_CHECKING:
    from rich.columns import Columns

_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN"}


def metavar_for(label: str) -> str:
    """``<list[str]>`` -> ``TEXT``, ``<int>`` -> ``INTEGER``, ``<a|b>`` -> ``[a|b]``."""
    label = label.strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    if "|" in label:
        return f"[{label}]"
    return _TYPE_NAMES.get(label, label.upper())


def _option_type(self: core.TyperOption, ctx: Any) -> str | None:
    if self.is_flag:
        return None  # a flag takes no value: no type to show
    if self.metavar is not None:
        return self.metavar
    return metavar_for(self.display_type(ctx))


def _argument_type(self: core.TyperArgument, ctx: Any) -> str | None:
    return None  # the argument's name (upper case) already stands for its value


def _argument_name(self: core.TyperArgument) -> str:
    name = self.metavar or (self.name or "").upper()
    return name + ("..." if self.metavar is None and self.nargs != 1 else "")


def _argument_usage(self: core.TyperArgument) -> str:
    name = self.metavar or (self.name or "").upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def _fold_long_defaults() -> None:
    """Wrap a long default path in option help, never cut it (typer's help renderer is imported
    only when help is shown, so this is patched in then)."""
    from rich.text import Text
    from typer import rich_utils

    parameter_help = rich_utils._get_parameter_help
    if getattr(parameter_help, "folds", False):
        return

    def folded(**kwargs: Any) -> Columns:
        columns = parameter_help(**kwargs)
        for item in columns.renderables:
            if isinstance(item, Text):
                item.overflow = "fold"
        return columns

    folded.folds = True  # type: ignore[attr-defined]
    rich_utils._get_parameter_help = folded


def _with_folding(format_help: Any) -> Any:
    def format_help_folded(self: Any, ctx: Any, formatter: Any) -> None:
        _fold_long_defaults()
        format_help(self, ctx, formatter)

    return format_help_folded


def one_line_paragraphs(text: str) -> str:
    """Join the single line breaks inside each paragraph (blank lines separate paragraphs)."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


def _tidy_commands(app: typer.Typer) -> None:
    for info in app.registered_commands:
        text = info.help or (inspect.getdoc(info.callback) if info.callback else None)
        if text:
            info.help = one_line_paragraphs(text)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _tidy_commands(group.typer_instance)


def tidy_help(app: typer.Typer) -> None:
    """Apply the conventions above to ``app`` and its sub-apps (call after every register)."""
    core.TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
    core.TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign,assignment]
    core.TyperArgument._rich_display_name = _argument_name  # type: ignore[method-assign]
    core.TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign]
    for cls in (core.TyperCommand, core.TyperGroup):
        if not getattr(cls, "_cairn_folds", False):
            cls.format_help = _with_folding(cls.format_help)  # type: ignore[method-assign]
            cls._cairn_folds = True  # type: ignore[attr-defined,union-attr]
    _tidy_commands(app)
