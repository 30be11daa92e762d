"""One module per item type, and the registry the rest of Skillmap asks.

Nothing outside this package branches on an item type; see docs/architecture.md.
"""

from quizzes.itemtypes.base import AnswerError, ChoiceOption, ItemTypeHandler
from quizzes.itemtypes.registry import (
    UnknownItemType,
    all_handlers,
    any_language_types,
    canonical_type,
    challenge_handler_for,
    choice_types,
    handler_for,
    is_registered,
    sandbox_types,
    submit_scored_types,
    type_names,
)

__all__ = [
    "AnswerError",
    "ChoiceOption",
    "ItemTypeHandler",
    "UnknownItemType",
    "all_handlers",
    "any_language_types",
    "canonical_type",
    "challenge_handler_for",
    "choice_types",
    "handler_for",
    "is_registered",
    "sandbox_types",
    "submit_scored_types",
    "type_names",
]
