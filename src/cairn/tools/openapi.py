"""OpenAPI 3 documents: the subset Cairn can call, checked by hand, and parameter binding.

Supported: OpenAPI 3.0.x and 3.1.x; GET and POST operations, each with an ``operationId``;
path and query parameters of type string, integer, number or boolean (with ``enum`` and
``required``); a JSON request body that is an object whose properties have those types (arrays
and objects pass as JSON). Local ``$ref`` (``#/components/...``) are followed. Other methods
are skipped (and listed), header or cookie parameters are skipped unless required (then the
document is refused).

:func:`bind` checks a call's parameters against its operation *before* any request is made.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from cairn.tools.errors import ToolError

SUPPORTED_METHODS = ("get", "post")
ALL_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SIMPLE_TYPES = ("string", "integer", "number", "boolean")
ParamType = Literal["string", "integer", "number", "boolean", "array", "object", "any"]
Location = Literal["path", "query", "body"]

_VERSION = re.compile(r"^3\.[01]\.\d+$")
_INT = re.compile(r"^[+-]?\d+$")
_MAX_REF_DEPTH = 32


@dataclass(frozen=True)
class Param:
    name: str
    location: Location
    type: ParamType
    required: bool = False
    enum: tuple[Any, ...] | None = None
    description: str = ""
    format: str = ""  # the schema's "format" (date, date-time, ...), read by understanding
    examples: tuple[Any, ...] = ()  # "example"/"examples" of the parameter or its schema
    default: Any = None


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # "GET" or "POST"
    path: str
    summary: str = ""
    params: tuple[Param, ...] = ()
    has_body: bool = False
    body_required: bool = False
    description: str = ""  # the whole summary + description, for understanding requests


@dataclass(frozen=True)
class ApiSpec:
    title: str
    openapi: str
    base_url: str
    operations: dict[str, Operation]
    skipped: tuple[str, ...] = field(default=())  # "PUT /items": methods Cairn does not call


@dataclass(frozen=True)
class BoundCall:
    """A checked call: the URL path (parameters filled in), query and JSON body."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    params: dict[str, Any]  # the checked values, typed


def _bad(message: str) -> ToolError:
    return ToolError("api-bad-spec", f"not a usable OpenAPI document: {message}")


# -- reading ----------------------------------------------------------------------------------
def load_document(path: str | Path) -> dict[str, Any]:
    """An OpenAPI document from a ``.json`` or ``.yaml``/``.yml`` file."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ToolError("api-bad-spec", f"cannot read {p}: {err}") from err
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError as err:  # pragma: no cover - PyYAML is usually there
            raise ToolError(
                "api-bad-spec", "reading a YAML spec needs PyYAML: pip install pyyaml"
            ) from err
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ToolError("api-bad-spec", f"{p} is not valid YAML: {err}") from err
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise ToolError("api-bad-spec", f"{p} is not valid JSON: {err}") from err
    if not isinstance(doc, dict):
        raise _bad(f"{p} holds a {type(doc).__name__}, not an object")
    return doc


def parse_spec(doc: Mapping[str, Any], *, base_url: str | None = None) -> ApiSpec:
    """Check ``doc`` and return what Cairn can call; :class:`ToolError` ``api-bad-spec``."""
    if "swagger" in doc and "openapi" not in doc:
        raise _bad(f"Swagger {doc['swagger']} is not supported; convert it to OpenAPI 3")
    if "openapi" not in doc:
        raise _bad("missing the 'openapi' field (the version, e.g. 3.1.0)")
    version = str(doc["openapi"])
    if not _VERSION.match(version):
        raise _bad(f"unsupported OpenAPI version {version!r} (supported: 3.0.x and 3.1.x)")
    info = doc.get("info")
    if not isinstance(info, Mapping):
        info = {}
    title = str(info.get("title") or "api")
    paths = doc.get("paths")
    if not isinstance(paths, Mapping) or not paths:
        raise _bad("missing 'paths' (the operations), or it is empty")
    base = _base_url(doc, base_url)
    operations: dict[str, Operation] = {}
    skipped: list[str] = []
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            raise _bad(f"path {path!r} is not an object")
        item = _resolve(doc, item)
        shared = item.get("parameters") or []
        for method in ALL_METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            if method not in SUPPORTED_METHODS:
                skipped.append(where)
                continue
            if not isinstance(op, Mapping):
                raise _bad(f"{where} is not an object")
            op_id = op.get("operationId")
            if not isinstance(op_id, str) or not op_id.strip():
                raise _bad(f"operation {where} has no operationId")
            if op_id in operations:
                raise _bad(f"operationId {op_id!r} is used twice")
            operations[op_id] = _operation(doc, op_id, method, str(path), shared, op)
    if not operations:
        raise _bad("no GET or POST operation to call")
    return ApiSpec(title, version, base, operations, tuple(skipped))


def _base_url(doc: Mapping[str, Any], override: str | None) -> str:
    if override:
        url = override
    else:
        servers = doc.get("servers")
        if not isinstance(servers, list) or not servers or not isinstance(servers[0], Mapping):
            raise _bad("missing 'servers' (where the API lives); or give a base URL")
        server = servers[0]
        url = str(server.get("url") or "")
        for name, var in (server.get("variables") or {}).items():
            if isinstance(var, Mapping) and "default" in var:
                url = url.replace("{" + str(name) + "}", str(var["default"]))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(
            f"server URL {url!r} is not an absolute http(s) URL; give a base URL "
            "(--base-url https://host/prefix)"
        )
    return url.rstrip("/")


def _resolve(doc: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """Follow local ``$ref`` pointers (``#/components/...``)."""
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if depth > _MAX_REF_DEPTH:
            raise _bad(f"$ref {ref!r} nests too deep (a cycle?)")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise _bad(f"$ref {ref!r} is not local (only '#/...' references are supported)")
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise _bad(f"$ref {ref!r} points nowhere")
            target = target[part]
        node = target
        depth += 1
    return node


def _schema_type(doc: Mapping[str, Any], schema: Any) -> tuple[ParamType, tuple[Any, ...] | None]:
    schema = _resolve(doc, schema)
    if not isinstance(schema, Mapping):
        return "any", None
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list):
            kept = [
                o for o in (_resolve(doc, x) for x in options) if not _is_null(o)
            ]  # Optional[X] is anyOf [X, null]
            return _schema_type(doc, kept[0]) if len(kept) == 1 else ("any", None)
    enum = tuple(schema["enum"]) if isinstance(schema.get("enum"), list) else None
    if enum is None and "const" in schema:
        enum = (schema["const"],)
    kind = schema.get("type")
    if isinstance(kind, list):  # 3.1: ["integer", "null"]
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if enum is not None:
        enum = tuple(v for v in enum if v is not None)
    if kind in SIMPLE_TYPES or kind in ("array", "object"):
        return kind, enum
    return "any", enum


def _is_null(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "null"


def _operation(
    doc: Mapping[str, Any],
    op_id: str,
    method: str,
    path: str,
    shared: Any,
    op: Mapping[str, Any],
) -> Operation:
    where = f"{op_id} ({method.upper()} {path})"
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*(shared or []), *(op.get("parameters") or [])]:
        p = _resolve(doc, raw)
        if not isinstance(p, Mapping) or "name" not in p or "in" not in p:
            raise _bad(f"{where}: a parameter without 'name' or 'in'")
        by_key[(str(p["in"]), str(p["name"]))] = p
    params: list[Param] = []
    for (loc, name), p in by_key.items():
        if loc not in ("path", "query"):
            if p.get("required"):
                raise _bad(
                    f"{where} needs {loc} parameter {name!r}; only path and query "
                    "parameters are supported"
                )
            continue
        kind, enum = _schema_type(doc, p.get("schema"))
        required = loc == "path" or bool(p.get("required"))
        fmt, examples, default = _schema_hints(doc, p.get("schema"), p)
        params.append(
            Param(name, loc, kind, required, enum, str(p.get("description") or ""),  # type: ignore[arg-type]
                  fmt, examples, default)
        )  # fmt: skip
    for name in re.findall(r"{([^}]+)}", path):
        if ("path", name) not in by_key:
            raise _bad(f"{where}: path parameter {name!r} is not declared")
    has_body = body_required = False
    body = _resolve(doc, op.get("requestBody"))
    if isinstance(body, Mapping):
        content = body.get("content") or {}
        schema = None
        for media, entry in content.items():
            if str(media).split(";")[0].strip() == "application/json" and isinstance(
                entry, Mapping
            ):
                schema = _resolve(doc, entry.get("schema"))
        if schema is None:
            if body.get("required"):
                raise _bad(f"{where} needs a request body that is not JSON")
        else:
            has_body, body_required = True, bool(body.get("required"))
            params.extend(_body_params(doc, where, schema, {p.name for p in params}))
    summary = str(op.get("summary") or op.get("description") or "").strip()
    described = " ".join(
        str(op.get(k) or "").strip() for k in ("summary", "description") if op.get(k)
    )
    return Operation(
        op_id, method.upper(), path, summary.splitlines()[0] if summary else "",
        tuple(params), has_body, body_required, described,
    )  # fmt: skip


def _schema_hints(
    doc: Mapping[str, Any], schema: Any, outer: Mapping[str, Any] | None = None
) -> tuple[str, tuple[Any, ...], Any]:
    """``format``, examples and default of a parameter (its own fields, then its schema's)."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, Mapping):
        schema = {}
    examples: list[Any] = []
    for node in (outer or {}, schema):
        if "example" in node:
            examples.append(node["example"])
        ex = node.get("examples")
        if isinstance(ex, list):
            examples.extend(ex)
        elif isinstance(ex, Mapping):  # OpenAPI parameter examples: {name: {value: ...}}
            examples.extend(v.get("value") for v in ex.values() if isinstance(v, Mapping))
    fmt = str(schema.get("format") or "")
    return fmt, tuple(e for e in examples if e is not None)[:10], schema.get("default")


def _body_params(doc: Mapping[str, Any], where: str, schema: Any, taken: set[str]) -> list[Param]:
    schema = _resolve(doc, schema)
    if isinstance(schema, Mapping) and isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in (_resolve(doc, s) for s in schema["allOf"]):
            if isinstance(part, Mapping):
                merged["properties"].update(part.get("properties") or {})
                merged["required"].extend(part.get("required") or [])
        schema = merged
    if not isinstance(schema, Mapping) or (
        schema.get("type") not in (None, "object") or "properties" not in schema
    ):
        raise _bad(f"{where}: the JSON request body must be an object with 'properties'")
    required = set(schema.get("required") or [])
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in taken:
            raise _bad(f"{where}: body property {name!r} has the name of a parameter")
        kind, enum = _schema_type(doc, prop)
        desc = prop.get("description", "") if isinstance(prop, Mapping) else ""
        fmt, examples, default = _schema_hints(doc, prop)
        out.append(
            Param(str(name), "body", kind, name in required, enum, str(desc or ""),
                  fmt, examples, default)
        )  # fmt: skip
    return out


# -- binding a call ---------------------------------------------------------------------------
def _bad_param(op: Operation, message: str) -> ToolError:
    return ToolError("api-bad-params", f"{op.operation_id}: {message}")


def _got(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def coerce(op: Operation, param: Param, value: Any) -> Any:
    """``value`` as ``param``'s type (CLI strings are converted); ToolError when it is not."""
    kind = param.type
    fail = _bad_param(op, f"parameter {param.name!r} expects {kind}, got {_got(value)}")
    out: Any
    if kind == "integer":
        if isinstance(value, bool):
            raise fail
        if isinstance(value, int):
            out = value
        elif isinstance(value, float) and value.is_integer():
            out = int(value)
        elif isinstance(value, str) and _INT.match(value.strip()):
            out = int(value.strip())
        else:
            raise fail
    elif kind == "number":
        if isinstance(value, bool):
            raise fail
        if isinstance(value, int | float):
            out = value
        elif isinstance(value, str):
            try:
                out = float(value.strip())
            except ValueError:
                raise fail from None
            if out.is_integer() and _INT.match(value.strip()):
                out = int(out)
        else:
            raise fail
        if not math.isfinite(out):
            raise fail
    elif kind == "boolean":
        if isinstance(value, bool):
            out = value
        elif isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            out = value.strip().lower() in ("true", "1")
        else:
            raise fail
    elif kind == "string":
        if isinstance(value, str):
            out = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out = str(value)
        else:
            raise fail
    elif kind in ("array", "object"):
        out = value
        if isinstance(value, str):
            try:
                out = json.loads(value)
            except json.JSONDecodeError:
                raise fail from None
        if not isinstance(out, list if kind == "array" else dict):
            raise fail
    else:
        out = value
    if param.enum is not None and out not in param.enum:
        choices = ", ".join(repr(v) for v in param.enum)
        raise _bad_param(op, f"parameter {param.name!r} must be one of {choices}, got {out!r}")
    return out


def bind(op: Operation, params: Mapping[str, Any]) -> BoundCall:
    """Check ``params`` against ``op`` and place them in the path, query or body."""
    known = {p.name: p for p in op.params}
    unknown = [k for k in params if k not in known]
    if unknown:
        takes = ", ".join(known) or "no parameters"
        raise _bad_param(op, f"unknown parameter {unknown[0]!r}; this operation takes: {takes}")
    checked: dict[str, Any] = {}
    for p in op.params:
        if p.name not in params or params[p.name] is None:
            if p.required:
                raise _bad_param(op, f"missing required parameter {p.name!r} ({p.type})")
            continue
        checked[p.name] = coerce(op, p, params[p.name])
    path = op.path
    query: dict[str, str] = {}
    body: dict[str, Any] | None = None
    for p in op.params:
        if p.name not in checked:
            continue
        value = checked[p.name]
        if p.location == "path":
            text = _text(value)
            if text.strip() in ("", ".", ".."):
                # "." and ".." would be resolved as path segments (/files/.. is /), and an
                # empty one changes the path too: no API takes them as values
                raise _bad_param(op, f"path parameter {p.name!r} cannot be {text!r}")
            path = path.replace("{" + p.name + "}", quote(text, safe=""))
        elif p.location == "query":
            query[p.name] = _text(value)
        else:
            body = body if body is not None else {}
            body[p.name] = value
    if op.has_body and body is None and op.body_required:
        body = {}
    return BoundCall(op.method, path, query, body, checked)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
