"""Previewing an item as a learner: the learner's own widget and review, scored by the
type's real scoring, with nothing stored.

The preview builds an ``AttemptItem`` in memory (never saved: no attempt, no answer, no
event) and hands it to the presenters the attempt page uses (``item_for_learner``, then
``item_review`` once answered), so the author sees exactly what a learner sees. The
per-attempt layout (shuffled, opaque tokens) travels in the page, signed, so the answer
posted back is read against the layout it was given.

Two things are previewed: a saved version (``item_preview_start``/``_answer``: the item's
"Preview as a learner" page), and the unsaved content of the item form, live
(``entry_preview_start``/``_answer``). The live one builds its version in memory too, from
the bank entry the form holds, and signs the entry's content hash with the layout: an
answer to content that changed since it was shown is refused, and shown again as it now
stands.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import signing
from django.utils import timezone

from quizzes.assessments.presenters import item_for_learner, item_review
from quizzes.bank.loader import content_hash, item_version_values
from quizzes.itemtypes import AnswerError, ItemTypeHandler, handler_for
from quizzes.models import AttemptItem, Item, ItemVersion, Stage

_SALT = "skillmap.bank.preview"
_LIVE_SALT = "skillmap.bank.live-preview"
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


def _shown(
    version: ItemVersion, answer: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The item as a learner is first shown it, with a fresh shuffle (holding ``answer``,
    as a learner's widget holds a saved one); and that layout."""
    handler = handler_for(version.item.type)
    layout = handler.layout(version.data, random.Random(), shuffle=True)  # noqa: S311
    item = _attempt_item(version, layout)
    item.answer = answer or {}
    view = item_for_learner(item)
    view["feedback_due"] = False
    return view, layout


def _answered(version: ItemVersion, layout: dict[str, Any], post: Any) -> dict[str, Any]:
    """The review a learner would get for the answer posted from the preview's widget."""
    handler = handler_for(version.item.type)
    if not handler.scored_at_submit:
        raise PreviewError(
            'Code is graded by the workers: save the item, then "Run as a learner" on its '
            '"Preview as a learner" page grades a solution of yours.'
        )
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
    return view


def item_preview_start(*, version: ItemVersion, answer: dict[str, Any] | None = None) -> Preview:
    """The item as a learner is first shown it, with a fresh shuffle (a challenge's editor
    holding ``answer``: the author's solution being run)."""
    view, layout = _shown(version, answer)
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
    view = _answered(version, signed["layout"], post)
    return Preview(view=view, signed_layout=signed_layout, answered=True)


# --- the live preview of the item form's unsaved content ----------------------------------
def unsaved_version(*, entry: dict[str, Any], stage: Stage) -> ItemVersion:
    """The version ``entry`` (a valid bank entry) would be, in memory only: neither it nor
    its item is saved, so nothing refers to them."""
    values = item_version_values(entry)
    values["points"] = Decimal(str(values["points"]))
    item = Item(
        slug=entry["slug"],
        type=entry["type"],
        stage=stage,
        topic=stage.topics.get(slug=entry["topic"]),
    )
    return ItemVersion(
        item=item, number=0, source=entry, content_hash=content_hash(entry), **values
    )


def entry_preview_start(*, entry: dict[str, Any], stage: Stage) -> Preview:
    """The form's content as a learner would first be shown it, with a fresh shuffle."""
    version = unsaved_version(entry=entry, stage=stage)
    view, layout = _shown(version)
    signed = signing.dumps({"hash": version.content_hash, "layout": layout}, salt=_LIVE_SALT)
    return Preview(view=view, signed_layout=signed)


def entry_preview_answer(
    *, entry: dict[str, Any], stage: Stage, signed_layout: str, post: Any
) -> Preview:
    """Score the answer posted from the live preview against the form's content, which
    must be the content it was shown with."""
    try:
        signed = signing.loads(signed_layout, salt=_LIVE_SALT, max_age=_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise PreviewError("This preview expired: here it is again.") from None
    version = unsaved_version(entry=entry, stage=stage)
    if signed.get("hash") != version.content_hash:
        raise PreviewError(
            "The item changed since this preview was shown: here it is as it now stands."
        )
    view = _answered(version, signed["layout"], post)
    return Preview(view=view, signed_layout=signed_layout, answered=True)


def answer_score(*, handler: ItemTypeHandler, entry: dict[str, Any], answer: Any) -> float:
    """The fraction of the points an answer gets against an unsaved bank entry, through
    the same answer schema and scoring as an attempt. Raises AnswerError."""
    data = handler.build_data(entry)
    layout = handler.layout(data, random.Random(0), shuffle=False)  # noqa: S311
    given = handler.to_item_ids(handler.clean_answer(answer, layout), layout)
    return handler.score(data, given) if given else 0.0
