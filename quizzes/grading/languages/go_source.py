"""Go source written from a challenge's signature: the learner's starter, the declarations
the harness calls, and ``skillmap_main.go``, the typed half of the Go harness.

Go is statically typed, so the harness cannot call the learner's code with whatever the
JSON holds: for every challenge a small file is generated that decodes each argument into
the declared Go type (``encoding/json``), calls the function or method, and hands the
result to the fixed harness package (quizzes/grading/harnesses/go/harness.go, imported as
``skillmapharness``) with its neutral type, which encodes it. It starts with compile-time
assertions of the declarations (``var _ func([]string, int) [][]string = BatchLines``),
so a learner whose declarations differ gets one precise compiler message about them.

Types (the neutral grammar, quizzes/grading/signature.py → Go):
``int`` → ``int``, ``float`` → ``float64``, ``string``, ``bool``, ``any`` → ``any``,
``list<T>`` → ``[]T``, ``map<T>`` → ``map[string]T``, a record → its struct (fields
PascalCase with ``json:"key"`` tags); a nullable scalar or record ``T?`` → ``*T``, while a
nullable list, map or ``any`` keeps its type (nil is null). An optional record field
(``key?``, left out when it holds nothing) is nullable, tagged ``omitempty``, and left
out of the result when nil. A non-nullable list or map that is nil is reported as empty.
Numbers inside ``any`` arguments arrive as ``json.Number`` (decoded with ``UseNumber``:
exact, so ``10`` and ``10.0`` stay apart as the JSON wrote them). A function or method
whose tests expect errors returns ``(T, error)`` (just ``error`` for ``void``); the
starter declares the sentinel errors (``ErrInvalidArgument``, ``ErrNotFound``;
quizzes/grading/languages/errors.py).

Everything here works on the signature as a harness receives it
(``Language.signature_config``: Go names, types as strings).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "SENTINELS",
    "declarations",
    "generate_main",
    "generate_starter",
    "go_type",
]

# The neutral error kinds (errors.py) and the sentinel a Go starter declares for each.
SENTINELS: dict[str, tuple[str, str]] = {
    "invalid_argument": ("ErrInvalidArgument", "invalid argument"),
    "not_found": ("ErrNotFound", "not found"),
}
_SCALARS = {"int": "int", "float": "float64", "string": "string", "bool": "bool", "any": "any"}
_ZERO = {"int": "0", "float": "0", "string": '""', "bool": "false"}


def _split(text: str) -> tuple[str, bool]:
    return (text[:-1], True) if text.endswith("?") else (text, False)


def go_type(text: str) -> str:
    """The Go type of a neutral type string (``list<int?>`` → ``[]*int``)."""
    base, nullable = _split(text)
    if base.startswith("list<") and base.endswith(">"):
        return "[]" + go_type(base[5:-1])
    if base.startswith("map<") and base.endswith(">"):
        return "map[string]" + go_type(base[4:-1])
    if base == "any":
        return "any"
    name = _SCALARS.get(base, base)
    return "*" + name if nullable else name


def _zero(text: str) -> str:
    base, nullable = _split(text)
    if nullable or base == "any" or base.startswith(("list<", "map<")):
        return "nil"
    if base in _ZERO:
        return _ZERO[base]
    return base + "{}"  # a record


def _results(returns: str, errors: list[str]) -> str:
    """The result list of a Go signature: ``T``, ``(T, error)``, ``error`` or nothing."""
    if returns == "void":
        return "error" if errors else ""
    return f"({go_type(returns)}, error)" if errors else go_type(returns)


def _params(params: list[dict[str, Any]]) -> str:
    return ", ".join(f"{p['name']} {go_type(p['type'])}" for p in params)


def _receiver(class_name: str) -> str:
    return class_name[:1].lower() or "r"


def declarations(config: dict[str, Any]) -> list[str]:
    """The declarations the harness uses, as the learner writes them."""
    signature = config["signature"]
    sentinels = [
        f"var {SENTINELS[kind][0]} = errors.New({_quote(SENTINELS[kind][1])})"
        for kind in _error_kinds(signature)
    ]
    return sentinels + _function_declarations(config)


def _function_declarations(config: dict[str, Any]) -> list[str]:
    signature = config["signature"]
    if config["kind"] == "function":
        results = _results(signature["returns"], signature.get("errors", []))
        return [f"func {config['entry']}({_params(signature['params'])}) {results}".rstrip()]
    class_name = config["class"]
    init_results = f"(*{class_name}, error)" if signature.get("init_errors") else f"*{class_name}"
    lines = [f"func {config['entry']}({_params(signature['init'])}) {init_results}"]
    receiver = _receiver(class_name)
    for method in signature["methods"]:
        results = _results(method["returns"], method.get("errors", []))
        lines.append(
            f"func ({receiver} *{class_name}) {method['name']}({_params(method['params'])}) "
            f"{results}".rstrip()
        )
    return lines


def _error_kinds(signature: dict[str, Any]) -> list[str]:
    kinds = list(signature.get("errors", [])) + list(signature.get("init_errors", []))
    for method in signature.get("methods", []):
        kinds += method.get("errors", [])
    return [kind for kind in SENTINELS if kind in kinds]


def _func_type(
    params: list[dict[str, Any]], returns: str, errors: list[str], receiver: str = ""
) -> str:
    types = ([receiver] if receiver else []) + [go_type(p["type"]) for p in params]
    return f"func({', '.join(types)}) {_results(returns, errors)}".rstrip()


def _call_lines(
    target: str, params: list[dict[str, Any]], returns: str, errors: list[str], indent: str
) -> list[str]:
    """Decode the arguments, call ``target``, return a ``skillmapharness.Result``."""
    lines = []
    names = []
    for index, param in enumerate(params):
        name = f"skillmapArg{index}"
        names.append(name)
        lines.append(f"var {name} {go_type(param['type'])}")
        lines.append(f"skillmapharness.Decode(args, {index}, &{name})")
    call = f"{target}({', '.join(names)})"
    if returns == "void":
        if errors:
            lines += [
                f"if err := {call}; err != nil {{",
                "\treturn skillmapharness.Failure(err)",
                "}",
            ]
        else:
            lines.append(call)
        lines.append('return skillmapharness.Value(nil, "void")')
    else:
        lines.append(f"var skillmapResultValue {go_type(returns)}")
        if errors:
            lines += [
                "var err error",
                f"skillmapResultValue, err = {call}",
                "if err != nil {",
                "\treturn skillmapharness.Failure(err)",
                "}",
            ]
        else:
            lines.append(f"skillmapResultValue = {call}")
        lines.append(f"return skillmapharness.Value(skillmapResultValue, {_quote(returns)})")
    return [indent + line for line in lines]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate_main(config: dict[str, Any]) -> str:
    """``skillmap_main.go`` for a harness config (see the module docstring)."""
    signature = config["signature"]
    lines = [
        "// Generated for this challenge: the typed calls into the learner's code.",
        "package main",
        "",
        'import "skillmapharness"',
        "",
        "// The declarations the challenge calls (a mismatch is a compile error here).",
    ]
    if config["kind"] == "function":
        function_type = _func_type(
            signature["params"], signature["returns"], signature.get("errors", [])
        )
        lines.append(f"var _ {function_type} = {config['entry']}")
    else:
        class_name = config["class"]
        init_results = (
            f"(*{class_name}, error)" if signature.get("init_errors") else f"*{class_name}"
        )
        init_types = ", ".join(go_type(p["type"]) for p in signature["init"])
        lines.append(f"var _ func({init_types}) {init_results} = {config['entry']}")
        for method in signature["methods"]:
            method_type = _func_type(
                method["params"], method["returns"], method.get("errors", []), f"*{class_name}"
            )
            lines.append(f"var _ {method_type} = (*{class_name}).{method['name']}")
    lines.append("")
    lines.append("// Captured before any init function of the learner's runs.")
    lines.append("var skillmapSentinels = []skillmapharness.Sentinel{")
    for kind in _error_kinds(signature):
        name = SENTINELS[kind][0]
        lines.append(f"\t{{{_quote(name)}, {name}}},")
    lines.append("}")
    lines.append("")
    lines.append("func main() {")
    lines.append("\tskillmapharness.Main(skillmapharness.Hooks{")
    lines.append("\t\tSentinels: skillmapSentinels,")
    lines.append("\t\tRecords: map[string]any{")
    for record in signature.get("records", {}):
        lines.append(f"\t\t\t{_quote(record)}: (*{record})(nil),")
    lines.append("\t\t},")
    lines.append("\t\tCallFunction: skillmapCallFunction,")
    lines.append("\t\tNew:          skillmapNew,")
    lines.append("\t\tCallMethod:   skillmapCallMethod,")
    lines.append("\t})")
    lines.append("}")
    lines.append("")
    lines.append("func skillmapCallFunction(args skillmapharness.Args) skillmapharness.Result {")
    if config["kind"] == "function":
        lines += _call_lines(
            config["entry"], signature["params"], signature["returns"],
            signature.get("errors", []), "\t",
        )  # fmt: skip
    else:
        lines.append('\tpanic("not a function challenge")')
    lines.append("}")
    lines.append("")
    lines.append("func skillmapNew(args skillmapharness.Args) (any, error) {")
    if config["kind"] == "class":
        class_name = config["class"]
        params = signature["init"]
        names = []
        for index, param in enumerate(params):
            name = f"skillmapArg{index}"
            names.append(name)
            lines.append(f"\tvar {name} {go_type(param['type'])}")
            lines.append(f"\tskillmapharness.Decode(args, {index}, &{name})")
        call = f"{config['entry']}({', '.join(names)})"
        lines.append(f"\tvar skillmapObject *{class_name}")
        if signature.get("init_errors"):
            lines += [
                "\tvar err error",
                f"\tskillmapObject, err = {call}",
                "\tif err != nil {",
                "\t\treturn nil, err",
                "\t}",
            ]
        else:
            lines.append(f"\tskillmapObject = {call}")
        lines.append("\treturn skillmapObject, nil")
    else:
        lines.append('\tpanic("not a class challenge")')
    lines.append("}")
    lines.append("")
    lines.append(
        "func skillmapCallMethod(object any, method string, args skillmapharness.Args) "
        "skillmapharness.Result {"
    )
    if config["kind"] == "class":
        lines.append(f"\tskillmapReceiver := object.(*{config['class']})")
        lines.append("\tswitch method {")
        for method in signature["methods"]:
            lines.append(f"\tcase {_quote(method['name'])}:")
            lines += _call_lines(
                f"skillmapReceiver.{method['name']}", method["params"], method["returns"],
                method.get("errors", []), "\t\t",
            )  # fmt: skip
        lines.append("\t}")
        lines.append("\treturn skillmapharness.UnknownMethod(method)")
    else:
        lines.append('\tpanic("not a class challenge")')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _field_type(field: dict[str, Any]) -> str:
    """An optional field (left out when it holds nothing) is nullable in Go."""
    if field.get("optional") and not field["type"].endswith("?"):
        return go_type(field["type"] + "?")
    return go_type(field["type"])


def _aligned_fields(fields: list[dict[str, Any]]) -> list[str]:
    """Struct fields aligned as gofmt aligns them; optional ones ``omitempty``."""
    rows = [
        (
            f["name"],
            _field_type(f),
            f'`json:"{f["key"]},omitempty"`' if f.get("optional") else f'`json:"{f["key"]}"`',
        )
        for f in fields
    ]
    name_width = max((len(row[0]) for row in rows), default=0)
    type_width = max((len(row[1]) for row in rows), default=0)
    return [
        f"\t{name.ljust(name_width)} {kind.ljust(type_width)} {tag}" for name, kind, tag in rows
    ]


def _body(returns: str, errors: list[str]) -> str:
    if returns == "void":
        return "\treturn nil" if errors else ""
    zero = _zero(returns)
    return f"\treturn {zero}, nil" if errors else f"\treturn {zero}"


def _type_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _takes_any(config: dict[str, Any]) -> bool:
    """Whether an argument (or a record field inside one) can hold an ``any`` value."""
    signature = config["signature"]
    params = list(signature.get("params", [])) + list(signature.get("init", []))
    for method in signature.get("methods", []):
        params += method["params"]
    records = signature.get("records", {})
    pending = [p["type"] for p in params]
    seen: set[str] = set()
    while pending:
        words = _type_words(pending.pop())
        if "any" in words:
            return True
        for name in (words & set(records)) - seen:
            seen.add(name)
            pending += [f["type"] for f in records[name]]
    return False


def generate_starter(config: dict[str, Any], *, summary: str = "") -> str:
    """The code a Go learner starts from: package main, the sentinel errors the tests
    expect, the record structs, and the declarations with empty bodies."""
    signature = config["signature"]
    kinds = _error_kinds(signature)
    lines = ["package main", ""]
    if kinds:
        lines += ['import "errors"', ""]
        for kind in kinds:
            name, text = SENTINELS[kind]
            lines.append(f"// {name} is returned (or wrapped with %w) for {text}.")
            lines.append(f"var {name} = errors.New({_quote(text)})")
        lines.append("")
    for record, fields in signature.get("records", {}).items():
        keys = ", ".join(
            f'"{f["key"]}"' + (" (optional)" if f.get("optional") else "") for f in fields
        )
        lines.append(f"// {record} is a JSON object with the keys {keys}.")
        lines.append(f"type {record} struct {{")
        lines += _aligned_fields(fields)
        lines += ["}", ""]
    if summary:
        lines.append(f"// {summary}")
    if _takes_any(config):
        lines.append(
            "// Numbers inside `any` arguments are json.Number (exact: 10 and 10.0 differ)."
        )
    heads = _function_declarations(config)
    if config["kind"] == "function":
        returns, errors = signature["returns"], signature.get("errors", [])
        lines += [heads[0] + " {", "\t// Your code here.", _body(returns, errors), "}"]
    else:
        class_name = config["class"]
        lines += [f"type {class_name} struct {{", "\t// Your fields here.", "}", ""]
        init_body = (
            f"\treturn &{class_name}{{}}, nil"
            if signature.get("init_errors")
            else f"\treturn &{class_name}{{}}"
        )
        lines += [heads[0] + " {", init_body, "}"]
        for head, method in zip(heads[1:], signature["methods"], strict=True):
            body = _body(method["returns"], method.get("errors", []))
            lines += ["", head + " {", "\t// Your code here."]
            if body:
                lines.append(body)
            lines.append("}")
    return "\n".join(line for line in lines) + "\n"
