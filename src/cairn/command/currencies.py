"""Currencies said in a request, as ISO 4217 codes, for parameters that ask for a currency.

"Convert 150 Euros to Canadian dollars" -> from EUR to CAD; "How many Canadian dollars can I
get for 500 US dollars?" -> from USD (the amount's currency) to CAD. Which said currency is
the source: the one right after the amount, else the one after "from"; the target: the other
one, or the one after "to", "into" or "in". A table of the common currencies' names (no API-
specific words); a bare "dollars" is the US dollar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cairn.command.operations import ParamDoc, split_name

_NAMES: dict[str, tuple[str, ...]] = {
    "USD": ("us dollars?", "u\\.s\\. dollars?", "american dollars?", "dollars?", "usd", "\\$"),
    "EUR": ("euros?", "eur", "€"),
    "GBP": (
        "british pounds?",
        "pounds? sterling",
        "sterling",
        "pounds?(?!\\s+(?:of|bags?)\\b)",
        "gbp",
        "£",
    ),
    "JPY": ("japanese yen", "yen", "jpy", "¥"),
    "CAD": ("canadian dollars?", "cad"),
    "AUD": ("australian dollars?", "aud"),
    "NZD": ("new zealand dollars?", "nzd"),
    "SGD": ("singapore dollars?", "sgd"),
    "HKD": ("hong kong dollars?", "hkd"),
    "CHF": ("swiss francs?", "chf"),
    "CNY": ("chinese yuan", "yuan", "renminbi", "rmb", "cny"),
    "INR": ("indian rupees?", "rupees?", "inr"),
    "MXN": ("mexican pesos?", "mxn"),
    "BRL": ("brazilian reals?", "brl"),
    "KRW": ("south korean won", "korean won", "krw"),
    "RUB": ("russian roubles?", "russian rubles?", "roubles?", "rubles?", "rub"),
    "SEK": ("swedish kronor", "swedish krona", "sek"),
    "NOK": ("norwegian kroner", "norwegian krone", "nok"),
    "DKK": ("danish kroner", "danish krone", "dkk"),
    "ZAR": ("south african rand", "rand", "zar"),
    "TRY": ("turkish lira", "lira"),
    "PLN": ("polish zloty", "zloty", "pln"),
    "THB": ("thai baht", "baht", "thb"),
}
_SYMBOLS = "$€£¥"


def _alternative(code: str, i: int, name: str) -> str:
    end = "" if name[-1] in _SYMBOLS else r"(?!\w)"  # "$500": a symbol is followed by digits
    return rf"(?P<{code}_{i}>(?<![\w$€£¥]){name}{end})"


_PATTERN = re.compile(
    "|".join(
        _alternative(code, i, n) for code, names in _NAMES.items() for i, n in enumerate(names)
    ),
    re.IGNORECASE,
)
_SOURCE_WORDS = frozenset(("from", "base", "source", "original", "input", "have", "sell"))
_TARGET_WORDS = frozenset(("to", "target", "destination", "dest", "output", "into", "quote", "buy"))


@dataclass(frozen=True)
class Said:
    code: str
    start: int
    end: int
    role: str  # "source", "target" or "" (not told)


def currencies_said(text: str) -> list[Said]:
    """Each currency named in ``text`` (longest names first), with the role its words give."""
    found: list[Said] = []
    for m in _PATTERN.finditer(text):
        code = next(k for k, v in m.groupdict().items() if v is not None).split("_")[0]
        before = text[: m.start()]
        if m.group(0) == "$" or re.search(r"\d[\d,.]*\s*(?:[mk]|million|billion)?\s*$", before):
            role = "source"  # "500 US dollars", "$500": the amount's currency
        elif re.search(r"\bfrom\s+(?:the\s+)?$", before, re.IGNORECASE):
            role = "source"
        elif re.search(r"\b(?:to|into|in)\s+(?:the\s+)?$", before, re.IGNORECASE):
            role = "target"
        else:
            role = ""
        found.append(Said(code, m.start(), m.end(), role))
    return found


def _is_currency(p: ParamDoc) -> bool:
    return p.type == "string" and "currency" in split_name(p.name).split()


def _role_of(p: ParamDoc) -> str:
    words = set(split_name(p.name).split())
    if words & _SOURCE_WORDS:
        return "source"
    if words & _TARGET_WORDS:
        return "target"
    return ""


def currency_values(
    params: Sequence[ParamDoc], text: str, free: Callable[[int, int], bool]
) -> dict[str, tuple[str, int, int]]:
    """Codes for the currency parameters among ``params``: by role where the parameter's
    name gives one (from/to, base/target), else the one currency said."""
    asking = [p for p in params if _is_currency(p)]
    if not asking:  # most operations: no need to search the request
        return {}
    said = [s for s in currencies_said(text) if free(s.start, s.end)]
    if not said:
        return {}
    out: dict[str, tuple[str, int, int]] = {}
    roles = {p.name: _role_of(p) for p in asking}
    if len(said) >= 2 and any(roles.values()):
        source = next((s for s in said if s.role == "source"), None)
        target = next((s for s in said if s.role == "target" and s is not source), None)
        if source is None:
            source = next(s for s in said if s is not target)
        if target is None:
            target = next(s for s in said if s is not source)
        chosen = {"source": source, "target": target}
        for p in asking:
            got = chosen.get(roles[p.name])
            if got is not None:
                out[p.name] = (_as_value(p, got.code), got.start, got.end)
    elif len(asking) == 1 and len({s.code for s in said}) == 1:
        out[asking[0].name] = (_as_value(asking[0], said[0].code), said[0].start, said[0].end)
    return out


def _as_value(p: ParamDoc, code: str) -> str:
    """The code, or the enum value that writes it."""
    for v in p.enum:
        if str(v).upper() == code:
            return str(v)
    return code
