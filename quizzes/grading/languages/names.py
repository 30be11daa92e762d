"""Names per language, from the neutral (Python) names of a challenge's signature.

The neutral names are Python's: snake_case functions, methods, parameters and record
keys, PascalCase classes and records (quizzes/grading/signature.py). Each language sees
them in its own convention (docs/architecture.md, "Languages"):

| neutral | JavaScript / TypeScript | Go | Java |
|---|---|---|---|
| function ``batch_lines`` | ``batchLines`` | ``BatchLines`` (exported) | ``batchLines`` (static) |
| parameter ``max_count`` | ``maxCount`` | ``maxCount`` | ``maxCount`` |
| class ``TTLCache`` | ``TTLCache`` | ``TTLCache`` + ``NewTTLCache`` | ``TTLCache`` |
| method ``add_node`` | ``addNode`` | ``AddNode`` | ``addNode`` |
| record key ``user_id`` | ``user_id`` (JSON key) | ``UserID``, ``json:"user_id"`` | ``userId`` |

Go keeps its usual initialisms upper-case (``ID``, ``URL``, ``HTTP``…), as golint asks.
"""

from __future__ import annotations

__all__ = [
    "GO_INITIALISMS",
    "LANGUAGE_KEYS",
    "go_constructor",
    "go_exported",
    "go_local",
    "lower_camel",
    "member_name",
    "pascal",
]

# Every language a code challenge can be offered in, in the order pages list them. A
# language is *known* here before its runtime is registered (quizzes.grading.languages):
# the bank may hold its solutions while no worker can grade it yet.
LANGUAGE_KEYS: tuple[str, ...] = ("python", "javascript", "typescript", "go", "java")

GO_INITIALISMS = frozenset(
    [
        "acl",
        "api",
        "ascii",
        "cpu",
        "css",
        "dns",
        "eof",
        "guid",
        "html",
        "http",
        "https",
        "id",
        "ip",
        "json",
        "jwt",
        "lhs",
        "qps",
        "ram",
        "rhs",
        "rpc",
        "sla",
        "smtp",
        "sql",
        "ssh",
        "tcp",
        "tls",
        "ttl",
        "udp",
        "ui",
        "uid",
        "uuid",
        "uri",
        "url",
        "utf8",
        "vm",
        "xml",
        "xmpp",
        "xsrf",
        "xss",
    ]
)


def _words(name: str) -> list[str]:
    return [word for word in name.split("_") if word]


def lower_camel(name: str) -> str:
    """``max_count`` → ``maxCount`` (a PascalCase name is only lower-cased at its start)."""
    words = _words(name)
    if not words:
        return name
    if len(words) == 1 and not name.islower():
        return name[0].lower() + name[1:]
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def pascal(name: str) -> str:
    """``max_count`` → ``MaxCount``; a PascalCase name is kept as it is."""
    words = _words(name)
    if len(words) == 1 and not name.islower():
        return name
    return "".join(word[:1].upper() + word[1:] for word in words)


def _go_word(word: str, *, first_lower: bool) -> str:
    if first_lower:
        return word
    if word in GO_INITIALISMS:
        return word.upper()
    return word[:1].upper() + word[1:]


def go_exported(name: str) -> str:
    """``user_id`` → ``UserID``, ``batch_lines`` → ``BatchLines``; PascalCase is kept."""
    words = _words(name)
    if len(words) == 1 and not name.islower():
        return name
    return "".join(_go_word(word, first_lower=False) for word in words)


def go_local(name: str) -> str:
    """A Go parameter or local: ``user_id`` → ``userID``, ``max_count`` → ``maxCount``."""
    words = _words(name)
    if not words:
        return name
    return words[0] + "".join(_go_word(word, first_lower=False) for word in words[1:])


def go_constructor(class_name: str) -> str:
    """``TTLCache`` → ``NewTTLCache``."""
    return "New" + class_name


def member_name(language: str, name: str, *, role: str) -> str:
    """A neutral name in ``language``'s convention. ``role`` is one of ``function``,
    ``method``, ``param``, ``class``, ``record``, ``field`` (a record's key)."""
    if role in ("class", "record") or language == "python":
        return name
    if language == "go":
        if role == "param":
            return go_local(name)
        return go_exported(name)  # functions, methods and struct fields are exported
    if role == "field" and language in ("javascript", "typescript"):
        return name  # JS objects keep the JSON key
    return lower_camel(name)
