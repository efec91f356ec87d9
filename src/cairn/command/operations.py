"""Operations a request can be mapped to, described only by what their schema says.

An :class:`OperationDoc` holds what understanding reads of one callable operation: its name,
summary and description, and each parameter's name, type, format, enum (with the words the
description gives its values: "Apple=AAPL"), required flag, default and examples. They are built
from a registered OpenAPI tool (:func:`from_api_tool`) or from a JSON-schema function document
of the kind function-calling benchmarks use (:func:`from_function_doc`). Nothing here knows any
particular API.

An operation Cairn cannot fill (a required parameter of a type it cannot read from speech,
such as a nested object) is kept with ``unusable`` saying why, so that it is listed, never
called with a guess. Enums over :data:`MAX_ENUM` values are not read into the lexicon.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cairn.tools.registry import ApiTool

MAX_ENUM = 500  # enum values read into the lexicon per parameter
MAX_OPERATIONS = 1000  # operations considered per request
SCALAR_TYPES = ("string", "integer", "number", "boolean")

_JSON_TYPES = {
    "dict": "object",
    "float": "number",
    "double": "number",
    "int": "integer",
    "long": "integer",
    "str": "string",
    "bool": "boolean",
    "tuple": "array",
    "list": "array",
    "any": "any",
    "Any": "any",
}


@dataclass(frozen=True)
class ParamDoc:
    name: str
    type: str  # string | integer | number | boolean | array | object | any
    required: bool = False
    description: str = ""
    format: str = ""
    enum: tuple[Any, ...] = ()
    default: Any = None
    examples: tuple[Any, ...] = ()
    items: str = ""  # the item type of an array
    item_enum: tuple[Any, ...] = ()  # the values an array's items may take
    aliases: tuple[tuple[str, Any], ...] = ()  # ("apple", "AAPL") read from the description
    fields: tuple[ParamDoc, ...] = ()  # an object's own properties, filled as parameters are

    @property
    def words(self) -> str:
        """The parameter as words: ``startDate`` -> ``start date``."""
        return split_name(self.name)


@dataclass(frozen=True)
class OperationDoc:
    tool: str  # "" for a bare function document
    name: str  # operationId / function name
    summary: str = ""
    description: str = ""
    params: tuple[ParamDoc, ...] = ()
    unusable: str = ""  # why it cannot be called from a request, when it cannot
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """``tool.operation`` (what a ``call_api`` command names), or the bare name."""
        return f"{self.tool}.{self.name}" if self.tool else self.name

    @property
    def required(self) -> tuple[ParamDoc, ...]:
        return tuple(p for p in self.params if p.required)

    def text(self) -> str:
        """What the operation does, as one text to embed."""
        parts = [split_name(self.name.rsplit(".", 1)[-1]), self.summary, self.description]
        parts.append("; ".join(f"{p.words}: {p.description}".strip(": ") for p in self.params))
        return ". ".join(p for p in parts if p)


def split_name(name: str) -> str:
    """``getStockPrices`` / ``get_stock_prices`` / ``math.hypot`` -> ``get stock prices``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return " ".join(re.sub(r"[^A-Za-z0-9]+", " ", name).lower().split())


# "Apple=AAPL", "AAPL (Apple)", "'AAPL' for Apple", "Apple: AAPL"
_ALIAS_PATTERNS = (
    re.compile(r"([A-Za-z][\w .&'-]{0,40}?)\s*(?:=|->|:)\s*([\w.\-]{1,24})"),
    re.compile(r"\b([\w.\-]{1,24})\s*\(\s*([A-Za-z][\w .&'-]{0,40}?)\s*\)"),
    re.compile(
        r"['\"]?([\w.\-]{1,24})['\"]?\s+(?:for|means|is|represents|stands\s+for|denotes)\s+"
        r"([A-Za-z][\w .&'-]{0,40}?)(?=[,;.)]|$)"
    ),
    # "5=May, 6=June": the value first
    re.compile(r"(?<![\w.])(\d[\w.\-]{0,23})\s*=\s*([A-Za-z][\w &'-]{0,40}?)\s*(?=[,;.)]|$)"),
)  # fmt: skip


def read_aliases(
    description: str, enum: Iterable[Any], *, last_words: bool = True
) -> tuple[tuple[str, Any], ...]:
    """Words the description gives enum values: ``Apple=AAPL`` -> ("apple", "AAPL"); with
    ``last_words``, also the last word of a name no other value's name ends with."""
    values = {str(v).lower(): v for v in enum}
    if not values or not description:
        return ()
    found: dict[str, Any] = {}
    lasts: dict[str, set[Any]] = {}  # "ironing service" -> "service": kept only if one value's
    for n, pattern in enumerate(_ALIAS_PATTERNS):
        for m in pattern.finditer(description):
            a, b = m.group(1).strip(), m.group(2).strip().rstrip(".")
            if (
                n == 0
                and ":" in m.group(0)
                and (
                    _listed_next(description, m.end(), values)
                    or re.match(r"\s*[=(]", description[m.end() :])
                )
            ):
                continue  # "What to average: ozone, wind or temperature" lists, not names
            word, value = (a, b) if n == 0 else (b, a)
            if value.lower() not in values and word.lower() in values:
                word, value = value, word
            if value.lower() in values and word.lower() != value.lower():
                words = re.split(r"[.,;:(]\s*", word)[-1].split()[-3:]
                while words and words[0].lower() in ("the", "a", "an"):
                    words = words[1:]
                name = " ".join(words).lower()
                if name in _NOT_NAMES:
                    continue  # "Example: 1 for Bangkok": "example" names no value
                if name and name not in values:
                    found.setdefault(name, values[value.lower()])
                last = words[-1].lower() if len(words) > 1 else ""
                if last_words and len(last) >= 3 and not last.isdigit() and last not in values:
                    lasts.setdefault(last, set()).add(values[value.lower()])
    for last, named in lasts.items():  # "Group A" -> not "a"; "cleaning service" -> not "service"
        if len(named) == 1 and last not in found:
            found[last] = next(iter(named))
    return tuple(found.items())


_NOT_NAMES = frozenset(("example", "for example", "e.g", "eg", "for instance", "such as", "i.e",
                        "default", "note", "format", "values", "valid values"))  # fmt: skip


def _listed_next(description: str, at: int, values: Mapping[str, Any]) -> bool:
    """Whether another enum value follows position ``at`` as the next item of a list."""
    m = re.match(r"\s*(?:,|\bor\b|\band\b)\s*['\"]?([\w.\-]+)", description[at:])
    return bool(m and m.group(1).lower().rstrip(".") in values)


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else "any"
    kind = _JSON_TYPES.get(str(kind), str(kind))
    return kind if kind in (*SCALAR_TYPES, "array", "object") else "any"


def _unusable(params: Iterable[ParamDoc]) -> str:
    for p in params:
        if not p.required:
            continue
        if p.type == "any" or (p.type == "object" and not p.fields):
            return f"required parameter {p.name!r} is of type {p.type}, which requests cannot fill"
        if p.type == "array" and p.items not in SCALAR_TYPES:
            return f"required parameter {p.name!r} is a list of {p.items or 'unknown items'}"
    return ""


def _enum_of(schema: Mapping[str, Any]) -> tuple[Any, ...]:
    raw = schema.get("enum")
    return tuple(v for v in raw if v is not None)[:MAX_ENUM] if isinstance(raw, list) else ()


def _param(name: str, schema: Mapping[str, Any], required: bool) -> ParamDoc:
    enum_raw = schema.get("enum")
    enum = tuple(v for v in enum_raw if v is not None) if isinstance(enum_raw, list) else ()
    desc = str(schema.get("description") or "")
    items = schema.get("items")
    examples: list[Any] = []
    if "example" in schema:
        examples.append(schema["example"])
    if isinstance(schema.get("examples"), list):
        examples.extend(schema["examples"])
    return ParamDoc(
        name=str(name),
        type=_kind(schema),
        required=required,
        description=desc,
        format=str(schema.get("format") or ""),
        enum=enum,
        default=schema.get("default"),
        examples=tuple(examples[:10]),
        items=_kind(items) if isinstance(items, Mapping) else "",
        item_enum=_enum_of(items) if isinstance(items, Mapping) else (),
        aliases=_aliases(desc, enum, _kind(schema)),
        fields=_fields(schema) if _kind(schema) == "object" else (),
    )


def _fields(schema: Mapping[str, Any], depth: int = 0) -> tuple[ParamDoc, ...]:
    """An object's properties as parameters (one level deep: an object inside an object is
    left to the caller)."""
    props = schema.get("properties")
    if not isinstance(props, Mapping) or depth > 0:
        return ()
    required = set(schema.get("required") or [])
    return tuple(
        _param(str(k), v if isinstance(v, Mapping) else {}, k in required)
        for k, v in props.items()
        if not (isinstance(v, Mapping) and _kind(v) == "object")
    )


_CODE = re.compile(
    r"(?<![\w.])(\d{1,4})['\"]?\s*(?:for|represents|means|is|stands\s+for|denotes|=|:)\s+[A-Za-z]"
)


def _aliases(description: str, enum: tuple[Any, ...], kind: str) -> tuple[tuple[str, Any], ...]:
    """The words a description gives enum values, or, for an integer without an enum, the
    codes it lists ("1 for cleaning service, 2 for ironing service")."""
    if enum:
        return read_aliases(description, enum[:MAX_ENUM]) if len(enum) <= MAX_ENUM else ()
    if kind != "integer":
        return ()
    codes = list(dict.fromkeys(int(m.group(1)) for m in _CODE.finditer(description)))
    # no last words: "100 is the highest volume" does not make "volume" say 100
    return read_aliases(description, codes, last_words=False) if len(codes) >= 2 else ()


def from_function_doc(fn: Mapping[str, Any], tool: str = "") -> OperationDoc:
    """A JSON-schema function document: ``{"name", "description", "parameters": {...}}``."""
    name = str(fn.get("name") or "").strip()
    if not name:
        raise ValueError("a function document without a name")
    schema = fn.get("parameters") or {}
    props = schema.get("properties") or {} if isinstance(schema, Mapping) else {}
    required = set(schema.get("required") or []) if isinstance(schema, Mapping) else set()
    params = tuple(
        _param(k, v if isinstance(v, Mapping) else {}, k in required) for k, v in props.items()
    )
    return OperationDoc(
        tool=tool,
        name=name,
        description=str(fn.get("description") or ""),
        params=params,
        unusable=_unusable(params),
    )


def from_api_tool(tool: ApiTool) -> list[OperationDoc]:
    """The operations of a registered OpenAPI tool."""
    out = []
    for op in list(tool.spec.operations.values())[:MAX_OPERATIONS]:
        params = tuple(
            ParamDoc(
                name=p.name,
                type=p.type,
                required=p.required,
                description=p.description,
                format=p.format,
                enum=tuple(p.enum or ()),
                default=p.default,
                examples=p.examples,
                aliases=_aliases(p.description, tuple(p.enum or ()), p.type),
            )
            for p in op.params
        )
        out.append(
            OperationDoc(
                tool=tool.name,
                name=op.operation_id,
                summary=op.summary,
                description=op.description if op.description != op.summary else "",
                params=params,
                unusable=_unusable(params),
            )
        )
    return out


def usability_notes(tool: ApiTool) -> list[str]:
    """One line per thing about ``tool`` that requests cannot use: operations that cannot be
    called from a request and why, enums too long to read words for, operations past
    :data:`MAX_OPERATIONS`."""
    lines = [f"not usable from requests: {op.name}: {op.unusable}" for op in from_api_tool(tool)
             if op.unusable]  # fmt: skip
    for op in list(tool.spec.operations.values())[:MAX_OPERATIONS]:
        for p in op.params:
            if len(p.enum or ()) > MAX_ENUM:
                lines.append(
                    f"{op.operation_id}.{p.name}: an enum of {len(p.enum or ())} values; only a "
                    f"value said exactly is read, and no words for values (over {MAX_ENUM})"
                )
    extra = len(tool.spec.operations) - MAX_OPERATIONS
    if extra > 0:
        lines.append(
            f"{extra} operations past the first {MAX_OPERATIONS} are not considered for requests"
        )
    return lines


def tool_value_names(tools: Iterable[ApiTool]) -> list[str]:
    """The names parameter descriptions give enum values (``Globex=GLBX`` -> ``Globex``): what
    people say, where the enum holds a code they do not (a speech-to-text priming line can
    list them)."""
    names: list[str] = []
    for tool in tools:
        for op in tool.spec.operations.values():
            for param in op.params:
                if param.enum and param.description:
                    found = {a.lower() for a, _ in read_aliases(param.description, param.enum)}
                    # the spelling the description uses ("Globex", "Acme Corp")
                    for m in re.finditer(r"[A-Za-z][\w&' ]{1,40}", param.description):
                        for phrase in _phrases(m.group(0)):
                            if phrase.lower() in found:
                                names.append(phrase)
                                found.discard(phrase.lower())
                    names += sorted(found)
    return names


def _phrases(text: str) -> list[str]:
    """Every run of up to three consecutive words of ``text``."""
    words = text.split()
    return [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, i + 4)]
