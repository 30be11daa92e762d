"""The language-neutral signature of a code challenge, and checking tests against it.

A code challenge is a function, or a class with a constructor and methods, over JSON-like
values. Its ``signature`` (fixtures/questions/README.md, "Code challenges") names the
parameters and their types; ``records`` names fixed-shape JSON objects. Every harness
(Python, JavaScript, TypeScript, Go, Java) reads the same signature, so every test's
arguments and expected value must fit it: ``check_tests`` proves that, with a
``SpecError`` that says which test, which argument and where inside the value.

Type grammar (a string)::

    type     := base "?"?
    base     := "int" | "float" | "string" | "bool" | "any"
              | "list<" type ">" | "map<" type ">" | RecordName
    returns  := type | "void"

``map<T>`` has string keys (a JSON object). ``any`` is any JSON value (null included).
``T?`` also admits null. An ``int`` is a JSON integer within int64 (never a bool); a
``float`` also accepts integers. A record's fields are present in every value (a
nullable field holds null, it is not left out), except optional ones, whose key is
written with a trailing ``?`` (``error?: string``): those may be absent, and a harness
leaves an optional field out when it holds nothing (null). No other key is allowed.

Functions here are pure and Django-free; ``SpecError`` comes from ``spec.py``'s base.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MISSING",
    "Method",
    "Param",
    "Record",
    "RecordField",
    "Signature",
    "SignatureError",
    "TypeRef",
    "bind_arguments",
    "check_value",
    "parse_type",
    "signature_from_dict",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

BaseKind = Literal["int", "float", "string", "bool", "any", "list", "map", "record", "void"]
_SCALARS: tuple[BaseKind, ...] = ("int", "float", "string", "bool", "any")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_RECORD_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
_JSON_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")


class SignatureError(ValueError):
    """A signature, or a value checked against it, is wrong; the message says where.

    ``spec.SpecError`` subclasses this, so callers of ``spec_from_dict`` catch one type."""


class _Missing:
    """The default of a parameter that has none (distinct from a default of null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class TypeRef:
    """A parsed type. ``item`` is the element type of a list or map; ``record`` the name
    of a record type."""

    kind: BaseKind
    nullable: bool = False
    item: TypeRef | None = None
    record: str | None = None

    def __str__(self) -> str:
        if self.kind in ("list", "map"):
            text = f"{self.kind}<{self.item}>"
        elif self.kind == "record":
            text = str(self.record)
        else:
            text = self.kind
        return text + ("?" if self.nullable else "")

    def records_used(self) -> Iterable[str]:
        if self.record is not None:
            yield self.record
        if self.item is not None:
            yield from self.item.records_used()


@dataclass(frozen=True)
class Param:
    name: str  # the neutral (snake_case) name; kwargs in tests use it
    type: TypeRef
    default: Any = MISSING

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@dataclass(frozen=True)
class Method:
    name: str  # neutral snake_case name, as tests call it
    params: tuple[Param, ...]
    returns: TypeRef
    raises: tuple[str, ...] = ()  # the error names (Python's) it may raise


@dataclass(frozen=True)
class RecordField:
    key: str  # the JSON key (snake_case, or as a wire format spells it: "Statement")
    type: TypeRef
    optional: bool = False  # may be absent; left out when null


@dataclass(frozen=True)
class Record:
    name: str
    fields: tuple[RecordField, ...]

    def field_named(self, key: str) -> RecordField | None:
        return next((f for f in self.fields if f.key == key), None)


@dataclass(frozen=True)
class Signature:
    """A function (``params``, ``returns``) or a class (``params`` are the constructor's,
    ``methods`` its methods; ``returns`` is None)."""

    kind: Literal["function", "class"]
    params: tuple[Param, ...]
    returns: TypeRef | None = None
    methods: tuple[Method, ...] = ()
    records: tuple[Record, ...] = ()
    raises: tuple[str, ...] = ()  # function kind: the error names it may raise
    init_raises: tuple[str, ...] = ()  # class kind: what the constructor may raise

    def method(self, name: str) -> Method | None:
        return next((m for m in self.methods if m.name == name), None)

    def record(self, name: str) -> Record:
        return next(r for r in self.records if r.name == name)

    @property
    def records_by_name(self) -> dict[str, Record]:
        return {r.name: r for r in self.records}

    def error_names(self) -> set[str]:
        """Every error name any function or method of the signature may raise."""
        names = set(self.raises) | set(self.init_raises)
        for method in self.methods:
            names.update(method.raises)
        return names


# --------------------------------------------------------------------------- types


def parse_type(
    text: Any, records: Iterable[str] = (), *, where: str, allow_void: bool = False
) -> TypeRef:
    """Parse a type string; raise SignatureError naming ``where`` and the position."""
    if not isinstance(text, str) or not text.strip():
        raise SignatureError(f"{where}: expected a type such as 'list<int>', got {text!r}")
    known = set(records)
    source = re.sub(r"\s+", "", text)
    parsed, end = _parse_at(source, 0, known, where, allow_void=allow_void)
    if end != len(source):
        raise SignatureError(
            f"{where}: unexpected {source[end:]!r} after {source[:end]!r} in type {source!r}"
        )
    return parsed


def _parse_at(
    source: str, pos: int, records: set[str], where: str, *, allow_void: bool
) -> tuple[TypeRef, int]:
    match = _IDENTIFIER.match(source, pos)
    if match is None:
        raise SignatureError(
            f"{where}: expected a type name at position {pos} of {source!r}"
            + (f" (found {source[pos]!r})" if pos < len(source) else " (the type ends there)")
        )
    name, pos = match.group(), match.end()
    item: TypeRef | None = None
    record: str | None = None
    kind: BaseKind
    if name in ("list", "map"):
        if not source.startswith("<", pos):
            raise SignatureError(f"{where}: '{name}' needs an element type: {name}<T>")
        item, pos = _parse_at(source, pos + 1, records, where, allow_void=False)
        if not source.startswith(">", pos):
            raise SignatureError(f"{where}: missing '>' to close '{name}<' in {source!r}")
        pos += 1
        kind = "list" if name == "list" else "map"
    elif name in _SCALARS:
        kind = name
    elif name == "void":
        if not allow_void:
            raise SignatureError(f"{where}: 'void' is only allowed as a return type")
        if source.startswith("?", pos):
            raise SignatureError(f"{where}: 'void' cannot be nullable")
        return TypeRef("void"), pos
    elif name in records:
        kind, record = "record", name
    else:
        hint = f"; records: {', '.join(sorted(records))}" if records else ""
        raise SignatureError(
            f"{where}: unknown type {name!r} (expected int, float, string, bool, any, "
            f"list<T>, map<T> or a record name{hint})"
        )
    nullable = source.startswith("?", pos)
    if nullable:
        pos += 1
        if source.startswith("?", pos):
            raise SignatureError(f"{where}: '??' in {source!r}: write one '?'")
    return TypeRef(kind, nullable=nullable, item=item, record=record), pos


# --------------------------------------------------------------------------- values


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_value(
    value: Any, type_: TypeRef, records: Mapping[str, Record], where: str, depth: int = 0
) -> None:
    """Raise SignatureError unless ``value`` (a JSON value) fits ``type_``. ``where`` is
    the path of the value, extended with ``[i]`` and ``.key`` on the way down."""
    if depth > 50:
        raise SignatureError(f"{where}: nested too deeply")
    if value is None:
        if type_.nullable or type_.kind in ("any", "void"):
            return
        raise SignatureError(f"{where}: null is not a {type_} (make the type '{type_}?')")
    kind = type_.kind
    if kind == "any":
        return
    if kind == "void":
        raise SignatureError(f"{where}: a void function returns nothing, expect null")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise SignatureError(f"{where}: {value} does not fit in a 64-bit int")
            return
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            raise SignatureError(f"{where}: {value!r} is a float, not an int (write {int(value)})")
    elif kind == "float":
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
            return
    elif kind == "string":
        if isinstance(value, str):
            return
    elif kind == "bool":
        if isinstance(value, bool):
            return
    elif kind == "list":
        if isinstance(value, list):
            assert type_.item is not None
            for index, element in enumerate(value):
                check_value(element, type_.item, records, f"{where}[{index}]", depth + 1)
            return
    elif kind == "map":
        if isinstance(value, dict):
            assert type_.item is not None
            for key, element in value.items():
                check_value(element, type_.item, records, f"{where}.{key}", depth + 1)
            return
    elif kind == "record":
        assert type_.record is not None
        if isinstance(value, dict):
            _check_record(value, records[type_.record], records, where, depth)
            return
    raise SignatureError(f"{where}: expected {type_}, got {_json_type(value)} {_short(value)}")


def _check_record(
    value: dict[str, Any], record: Record, records: Mapping[str, Record], where: str, depth: int
) -> None:
    keys = [f.key for f in record.fields]
    unknown = [key for key in value if key not in keys]
    if unknown:
        raise SignatureError(
            f"{where}: {record.name} has no field {unknown[0]!r} (fields: {', '.join(keys)})"
        )
    for record_field in record.fields:
        if record_field.key not in value:
            if record_field.optional:
                continue
            raise SignatureError(
                f"{where}: {record.name} needs field {record_field.key!r}"
                + (" (a nullable field holds null, it is not left out)"
                   if record_field.type.nullable else "")
            )  # fmt: skip
        if record_field.optional and value[record_field.key] is None:
            raise SignatureError(
                f"{where}.{record_field.key}: an optional field is left out, not null"
            )
        check_value(
            value[record_field.key],
            record_field.type,
            records,
            f"{where}.{record_field.key}",
            depth + 1,
        )


def bind_arguments(
    params: Sequence[Param], args: Sequence[Any], kwargs: Mapping[str, Any], where: str
) -> list[Any]:
    """The full positional argument list of a call written as ``args`` and ``kwargs``
    (keyword arguments name parameters; defaults fill the rest), as Python would bind it.
    Raises SignatureError for too many arguments, an unknown or repeated name, or a
    missing parameter without a default."""
    if len(args) > len(params):
        raise SignatureError(
            f"{where}: {len(args)} positional arguments, but the signature takes "
            f"{len(params)} ({', '.join(p.name for p in params) or 'none'})"
        )
    names = [p.name for p in params]
    bound: dict[str, Any] = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise SignatureError(
                f"{where}.kwargs: no parameter named {key!r} (parameters: "
                f"{', '.join(names) or 'none'})"
            )
        if key in bound:
            raise SignatureError(
                f"{where}.kwargs: {key!r} is already given as a positional argument"
            )
        bound[key] = value
    result = []
    for param in params:
        if param.name in bound:
            result.append(bound[param.name])
        elif param.has_default:
            result.append(param.default)
        else:
            raise SignatureError(f"{where}: missing argument {param.name!r} (no default)")
    return result


# --------------------------------------------------------------------------- parsing

_SIGNATURE_FUNCTION_KEYS = {"params", "returns", "raises"}
_SIGNATURE_CLASS_KEYS = {"init", "methods", "init_raises"}
_METHOD_KEYS = {"params", "returns", "raises"}
_PARAM_KEYS = {"name", "type", "default"}

# Names no language may use as a parameter, method or field name: a reserved word in
# Python, JavaScript/TypeScript, Go or Java (and the names each harness keeps for itself).
RESERVED_NAMES = frozenset(
    [
        "abstract",
        "and",
        "arguments",
        "as",
        "assert",
        "async",
        "await",
        "boolean",
        "break",
        "byte",
        "case",
        "catch",
        "chan",
        "char",
        "class",
        "const",
        "continue",
        "debugger",
        "def",
        "default",
        "defer",
        "del",
        "delete",
        "do",
        "double",
        "elif",
        "else",
        "enum",
        "eval",
        "except",
        "export",
        "extends",
        "false",
        "fallthrough",
        "final",
        "finally",
        "float",
        "for",
        "from",
        "func",
        "function",
        "global",
        "go",
        "goto",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "int",
        "interface",
        "is",
        "lambda",
        "let",
        "long",
        "map",
        "native",
        "new",
        "nil",
        "nonlocal",
        "not",
        "null",
        "or",
        "package",
        "pass",
        "private",
        "protected",
        "public",
        "raise",
        "range",
        "return",
        "select",
        "short",
        "static",
        "strictfp",
        "struct",
        "super",
        "switch",
        "synchronized",
        "this",
        "throw",
        "throws",
        "transient",
        "true",
        "try",
        "type",
        "typeof",
        "var",
        "void",
        "volatile",
        "while",
        "with",
        "yield",
    ]
)


def _check_keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise SignatureError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _name(value: Any, where: str, *, what: str) -> str:
    if not isinstance(value, str) or not _SNAKE.fullmatch(value):
        raise SignatureError(f"{where}: expected a snake_case {what} name, got {value!r}")
    if value in RESERVED_NAMES:
        raise SignatureError(
            f"{where}: {value!r} is a reserved word in one of the languages; choose another name"
        )
    return value


def _raises(raw: Any, where: str, known_errors: Iterable[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    known = set(known_errors)
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise SignatureError(f"{where}: expected a list of error names such as [ValueError]")
    for name in raw:
        if name not in known:
            raise SignatureError(
                f"{where}: {name!r} is not an error every language can raise "
                f"(known: {', '.join(sorted(known))})"
            )
    return tuple(dict.fromkeys(raw))


def _params(raw: Any, records: Mapping[str, Record], where: str) -> tuple[Param, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise SignatureError(f"{where}: expected a list of {{name, type}}")
    params: list[Param] = []
    seen_default = False
    for index, entry in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict):
            raise SignatureError(f"{at}: expected a mapping with 'name' and 'type'")
        _check_keys(entry, _PARAM_KEYS, at)
        name = _name(entry.get("name"), f"{at}.name", what="parameter")
        if any(p.name == name for p in params):
            raise SignatureError(f"{at}.name: duplicate parameter {name!r}")
        type_ = parse_type(entry.get("type"), records, where=f"{at}.type")
        if "default" in entry:
            default = entry["default"]
            check_value(default, type_, records, f"{at}.default")
            seen_default = True
        else:
            if seen_default:
                raise SignatureError(
                    f"{at}: {name!r} has no default but follows a parameter that has one"
                )
            default = MISSING
        params.append(Param(name, type_, default))
    return tuple(params)


def _records(raw: Any) -> tuple[Record, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise SignatureError("challenge.records: expected a mapping of RecordName: {field: type}")
    names = [str(name) for name in raw]
    for name in names:
        if not _RECORD_NAME.fullmatch(name):
            raise SignatureError(
                f"challenge.records: {name!r} is not a PascalCase record name (e.g. Delivery)"
            )
        if name.lower() in _SCALARS or name.lower() in ("list", "map", "void"):
            raise SignatureError(f"challenge.records: {name!r} is a built-in type's name")
    records: list[Record] = []
    # Field types may name any record, itself included (parsed after all names are known).
    for name, fields_raw in raw.items():
        where = f"challenge.records.{name}"
        if not isinstance(fields_raw, dict) or not fields_raw:
            raise SignatureError(f"{where}: expected a non-empty mapping of field: type")
        fields: list[RecordField] = []
        for raw_key, type_text in fields_raw.items():
            optional = isinstance(raw_key, str) and raw_key.endswith("?")
            key = raw_key[:-1] if optional else raw_key
            if not isinstance(key, str) or not _JSON_KEY.fullmatch(key):
                raise SignatureError(
                    f"{where}: field {raw_key!r} is not a JSON key made of letters, digits "
                    "and underscores (append '?' for an optional field)"
                )
            if key in RESERVED_NAMES:
                raise SignatureError(
                    f"{where}.{key}: a reserved word in one of the languages; choose another key"
                )
            if any(f.key == key for f in fields):
                raise SignatureError(f"{where}.{key}: field given twice")
            type_ = parse_type(type_text, names, where=f"{where}.{key}")
            if optional and type_.nullable:
                raise SignatureError(
                    f"{where}.{key}: an optional field is left out, not null: drop the '?' "
                    "of the type"
                )
            fields.append(RecordField(key, type_, optional))
        records.append(Record(str(name), tuple(fields)))
    return tuple(records)


def signature_from_dict(
    kind: str, raw: Any, raw_records: Any, *, known_errors: Iterable[str]
) -> Signature:
    """Parse ``challenge.signature`` (and ``challenge.records``) of a challenge of ``kind``
    ("function" or "class"); raise SignatureError naming the key at fault."""
    errors = tuple(known_errors)
    records = _records(raw_records)
    by_name = {r.name: r for r in records}
    where = "challenge.signature"
    if not isinstance(raw, dict):
        raise SignatureError(f"{where}: expected a mapping")
    if kind == "function":
        _check_keys(raw, _SIGNATURE_FUNCTION_KEYS, where)
        if "returns" not in raw:
            raise SignatureError(f"{where}: missing 'returns' (use 'void' for no result)")
        signature = Signature(
            kind="function",
            params=_params(raw.get("params"), by_name, f"{where}.params"),
            returns=parse_type(raw["returns"], by_name, where=f"{where}.returns", allow_void=True),
            records=records,
            raises=_raises(raw.get("raises"), f"{where}.raises", errors),
        )
    else:
        _check_keys(raw, _SIGNATURE_CLASS_KEYS, where)
        methods_raw = raw.get("methods")
        if not isinstance(methods_raw, dict) or not methods_raw:
            raise SignatureError(
                f"{where}.methods: expected a mapping of method: {{params, returns}}"
            )
        methods: list[Method] = []
        for name, method_raw in methods_raw.items():
            at = f"{where}.methods.{name}"
            _name(name, at, what="method")
            if not isinstance(method_raw, dict):
                raise SignatureError(f"{at}: expected a mapping with 'params' and 'returns'")
            _check_keys(method_raw, _METHOD_KEYS, at)
            if "returns" not in method_raw:
                raise SignatureError(f"{at}: missing 'returns' (use 'void' for no result)")
            methods.append(
                Method(
                    name=name,
                    params=_params(method_raw.get("params"), by_name, f"{at}.params"),
                    returns=parse_type(
                        method_raw["returns"], by_name, where=f"{at}.returns", allow_void=True
                    ),
                    raises=_raises(method_raw.get("raises"), f"{at}.raises", errors),
                )
            )
        signature = Signature(
            kind="class",
            params=_params(raw.get("init"), by_name, f"{where}.init"),
            methods=tuple(methods),
            records=records,
            init_raises=_raises(raw.get("init_raises"), f"{where}.init_raises", errors),
        )
    used = {name for t in _all_types(signature) for name in t.records_used()}
    for record in records:
        for record_field in record.fields:
            used.update(record_field.type.records_used())
    unused = [r.name for r in records if r.name not in used]
    if unused:
        raise SignatureError(f"challenge.records.{unused[0]}: no parameter or result uses it")
    return signature


def _all_types(signature: Signature) -> Iterable[TypeRef]:
    for param in signature.params:
        yield param.type
    if signature.returns is not None:
        yield signature.returns
    for method in signature.methods:
        for param in method.params:
            yield param.type
        yield method.returns
