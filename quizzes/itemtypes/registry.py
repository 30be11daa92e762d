"""The item-type registry: every type's handler, and the capabilities others ask about.

Adding a type: write its module beside this one (a handler class implementing
``ItemTypeHandler``), add its ``ItemType`` member, and list the handler in ``_HANDLERS``.
"""

from __future__ import annotations

from collections.abc import Iterable

from quizzes.itemtypes.base import ItemTypeHandler
from quizzes.itemtypes.challenge import ChallengeHandler
from quizzes.itemtypes.code import CodeChallenge
from quizzes.itemtypes.matching import Matching
from quizzes.itemtypes.multiple_choice import MultipleChoice
from quizzes.itemtypes.numeric import Numeric
from quizzes.itemtypes.ordering import Ordering
from quizzes.itemtypes.short_text import ShortText
from quizzes.itemtypes.single_choice import SingleChoice
from quizzes.itemtypes.sql import SqlChallenge
from quizzes.itemtypes.true_false import TrueFalse

_HANDLERS: dict[str, ItemTypeHandler] = {
    str(handler.type): handler
    for handler in (
        SingleChoice(),
        MultipleChoice(),
        TrueFalse(),
        Numeric(),
        ShortText(),
        Ordering(),
        Matching(),
        CodeChallenge(),
        SqlChallenge(),
    )
}


# Old names bank files may still use: ``python`` was the code challenge's type before
# challenges were offered in every language. The loader stores the canonical name.
TYPE_ALIASES: dict[str, str] = {"python": "code"}


class UnknownItemType(KeyError):
    """No handler is registered for this type name."""


def canonical_type(item_type: str) -> str:
    """The registered name of a type given by its name or an old alias."""
    return TYPE_ALIASES.get(str(item_type), str(item_type))


def handler_for(item_type: str) -> ItemTypeHandler:
    try:
        return _HANDLERS[canonical_type(item_type)]
    except KeyError:
        raise UnknownItemType(item_type) from None


def challenge_handler_for(item_type: str) -> ChallengeHandler:
    """The handler of a type that is graded in the sandbox; TypeError for any other."""
    handler = handler_for(item_type)
    if not isinstance(handler, ChallengeHandler):
        raise TypeError(f"{item_type} is not graded in the sandbox")
    return handler


def all_handlers() -> Iterable[ItemTypeHandler]:
    return _HANDLERS.values()


def type_names() -> list[str]:
    return list(_HANDLERS)


def is_registered(item_type: object) -> bool:
    return isinstance(item_type, str) and canonical_type(item_type) in _HANDLERS


def sandbox_types() -> list[str]:
    """Types graded by the pipeline in the sandbox (code and SQL today)."""
    return [name for name, h in _HANDLERS.items() if h.needs_sandbox]


def choice_types() -> list[str]:
    """Types whose answers pick among options (choices, true and false)."""
    return [name for name, h in _HANDLERS.items() if h.has_choices]


def any_language_types() -> list[str]:
    """Types taken in the learner's own programming language (code challenges): a quiz
    that draws one language's topics still draws them."""
    return [name for name, h in _HANDLERS.items() if h.in_any_language]


def submit_scored_types() -> list[str]:
    """Types scored in-process when the attempt is submitted or checked."""
    return [name for name, h in _HANDLERS.items() if h.scored_at_submit]
