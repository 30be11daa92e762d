"""Previewing an item as a learner: the learner's own widget and review, scored by the
type's real scoring, with nothing stored.

The preview builds an ``AttemptItem`` in memory (never saved: no attempt, no answer, no
event) and hands it to the presenters the attempt page uses (``item_for_learner``, then
``item_review`` once answered), so the author sees exactly what a learner sees. The
per-attempt layout (shuffled, opaque tokens) travels in the page, signed, so the answer
posted back is read against the layout it was given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import signing
from django.utils import timezone

from quizzes.assessments.presenters import item_for_learner, item_review
from quizzes.itemtypes import AnswerError, ItemTypeHandler, handler_for
from quizzes.models import AttemptItem, ItemVersion

_SALT = "skillmap.bank.preview"
_MAX_AGE_SECONDS = 24 * 3600


class PreviewError(Exception):
    """The preview's answer cannot be scored; the message says why, in plain words."""


@dataclass
class Preview:
    view: dict[str, Any]
    signed_layout: str
    answered: bool = False
    refused: str | None = None


def _attempt_item(version: ItemVersion, layout: dict[str, Any]) -> AttemptItem:
    # Never saved: its attempt does not exist.
    return AttemptItem(
        item_version=version, position=1, layout=layout, answer={}, max_score=version.points
    )


def item_preview_start(*, version: ItemVersion) -> Preview:
    """The item as a learner is first shown it, with a fresh shuffle."""
    handler = handler_for(version.item.type)
    layout = handler.layout(version.data, random.Random(), shuffle=True)  # noqa: S311
    view = item_for_learner(_attempt_item(version, layout))
    view["feedback_due"] = False
    signed = signing.dumps({"version": version.pk, "layout": layout}, salt=_SALT)
    return Preview(view=view, signed_layout=signed)


def item_preview_answer(*, version: ItemVersion, signed_layout: str, post: Any) -> Preview:
    """Score the answer posted from the preview's widget; the review a learner would get."""
    try:
        signed = signing.loads(signed_layout, salt=_SALT, max_age=_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise PreviewError("This preview expired: here it is again.") from None
    if signed.get("version") != version.pk:
        raise PreviewError("The item changed since this preview was opened: here it is again.")
    handler = handler_for(version.item.type)
    if not handler.scored_at_submit:
        raise PreviewError(
            "Code is graded by the workers: use Verify on the item's page to run solutions."
        )
    layout = signed["layout"]
    item = _attempt_item(version, layout)
    try:
        item.answer = handler.clean_answer(handler.answer_from_post(post, layout), layout)
    except AnswerError as exc:
        raise PreviewError(f"That answer cannot be scored: {exc}") from None
    fraction = handler.score(version.data, handler.to_item_ids(item.answer, layout))
    item.score = (Decimal(str(fraction)) * item.max_score).quantize(Decimal("0.01"))
    item.is_correct = fraction >= 1.0
    item.graded_at = timezone.now()
    view = item_review(item)
    view["feedback_due"] = True
    return Preview(view=view, signed_layout=signed_layout, answered=True)


def answer_score(*, handler: ItemTypeHandler, entry: dict[str, Any], answer: Any) -> float:
    """The fraction of the points an answer gets against an unsaved bank entry, through
    the same answer schema and scoring as an attempt. Raises AnswerError."""
    data = handler.build_data(entry)
    layout = handler.layout(data, random.Random(0), shuffle=False)  # noqa: S311
    given = handler.to_item_ids(handler.clean_answer(answer, layout), layout)
    return handler.score(data, given) if given else 0.0
