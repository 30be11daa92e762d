"""Attempts: start, autosave, check, submit, auto-submit, and when feedback is due.

Invariants:
- An attempt's items and their versions are drawn once, at start, and never change.
- The browser only ever sees per-attempt opaque tokens for choices, sequence entries and
  matching sides; ``layout`` maps them to the item's own ids on the server.
- A save is accepted only while the attempt is in progress, before deadline + grace, and
  for an item that is not locked; saves carry a revision so a late retry of an older save
  never overwrites a newer answer. Running a challenge's examples follows the same clock.
- Submitting is idempotent: whoever gets the row lock first submits; the rest see it done."""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from quizzes.assessments.placement import placement_choose
from quizzes.assessments.selectors import access_attempt
from quizzes.bank.quizzes import quiz_draw
from quizzes.itemtypes import AnswerError, handler_for
from quizzes.itemtypes.challenge import MAX_CODE_BYTES
from quizzes.metrics import ATTEMPTS_STARTED, ATTEMPTS_SUBMITTED, AUTOSAVE_FAILURES, AUTOSAVES
from quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
    EventKind,
    FeedbackMode,
    Item,
    Quiz,
    QuizStatus,
    SkillUpdateRequest,
    Submission,
    SubmissionKind,
)
from quizzes.models.sql import (
    CompiledModelQuery,
    CompiledQuery,
    HandWritten,
    Names,
    adapt_datetime,
    adapt_json,
    client_side_binding,
    connection_for,
    read_decimal,
)
from quizzes.pipeline.submissions import submission_create
from quizzes.preferences import learner_language
from quizzes.text import printable

logger = logging.getLogger(__name__)

# Sent by name (quizzes.analytics.tasks defines them): analytics reads attempts, so attempts
# must not import analytics. A grade writes a SkillUpdateRequest and the drain task
# recomputes the learners it names; a lost message is made good by the periodic refresh.
SKILL_DRAIN_TASK = "skillmap.skill.drain_updates"
# One learner's update, as sent by earlier releases (still consumed).
SKILL_UPDATE_TASK = "skillmap.skill.update_learner"

RUN_KEY_PREFIX = "run:"
# Submission.idempotency_key holds 64 characters, the prefix included.
MAX_RUN_REQUEST_ID = 64 - len(RUN_KEY_PREFIX)
# AttemptItem.answer_revision is a PositiveIntegerField: 2**31 - 1 on every database.
MAX_REVISION = 2**31 - 1


class AttemptError(Exception):
    """A request about an attempt that cannot be honoured; the message is for the learner.

    ``field`` names the part of the request at fault (``answer.choice``), when one is.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AttemptClosed(AttemptError):
    status_code = 409


# --- start -------------------------------------------------------------------------------
def check_can_start(*, learner: User, quiz: Quiz) -> None:
    if quiz.status != QuizStatus.PUBLISHED:
        raise AttemptError("This quiz is not open yet.")
    now = timezone.now()
    if quiz.opens_at and now < quiz.opens_at:
        raise AttemptError(f"This quiz opens on {quiz.opens_at:%Y-%m-%d at %H:%M} UTC.")
    if quiz.closes_at and now >= quiz.closes_at:
        raise AttemptClosed("This quiz has closed.")
    if quiz.max_attempts is not None:
        used = Attempt.objects.filter(learner=learner, quiz=quiz).count()
        if used >= quiz.max_attempts:
            raise AttemptError(f"You have used all {quiz.max_attempts} attempts at this quiz.")


def language_needed(*, learner: User, quiz: Quiz) -> bool:
    """Whether the learner must choose their programming language before starting
    ``quiz``: the placement estimates stage 1 in it, so it asks first (pages and API)."""
    return quiz.is_adaptive and learner_language(user=learner) is None


def attempt_start(*, learner: User, quiz: Quiz) -> Attempt:
    """Resume the learner's open attempt at ``quiz``, or start one (idempotent)."""
    existing = open_attempt(learner=learner, quiz=quiz)
    if existing is not None:
        return existing
    check_can_start(learner=learner, quiz=quiz)
    seed = secrets.randbits(62)
    rng = random.Random(seed)  # noqa: S311 (shuffling, not secrets)
    if quiz.is_adaptive:
        # The first item only; each next one is chosen from the answers (placement_next).
        first = placement_choose(Attempt(quiz=quiz, seed=seed, learner=learner), [])
        items = [first] if first is not None else []
    else:
        items = quiz_draw(quiz=quiz, rng=rng, language=learner_language(user=learner))
    if not items:
        raise AttemptError("This quiz has no questions yet.")
    now = timezone.now()
    deadline = now + timedelta(seconds=quiz.time_limit_seconds) if quiz.time_limit_seconds else None
    if quiz.closes_at and (deadline is None or quiz.closes_at < deadline):
        deadline = quiz.closes_at
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                quiz=quiz,
                learner=learner,
                number=Attempt.objects.filter(learner=learner, quiz=quiz).count() + 1,
                seed=seed,
                deadline=deadline,
                max_score=sum(
                    (i.current_version.points for i in items if i.current_version), Decimal(0)
                ),
            )
            AttemptItem.objects.bulk_create(
                AttemptItem(
                    attempt=attempt,
                    item_version=item.current_version,
                    position=position,
                    layout=handler_for(item.type).layout(
                        item.current_version.data, rng, shuffle=quiz.shuffle_choices
                    ),
                    max_score=item.current_version.points,
                )
                for position, item in enumerate(items, start=1)
                if item.current_version is not None
            )
            AttemptEvent.objects.create(
                attempt=attempt, kind=EventKind.STARTED, data={"item_count": len(items)}
            )
    except IntegrityError:
        # A second request (double click, two tabs) won the race: resume its attempt.
        existing = open_attempt(learner=learner, quiz=quiz)
        if existing is None:
            raise
        return existing
    ATTEMPTS_STARTED.inc()
    return attempt


def open_attempt(*, learner: User, quiz: Quiz) -> Attempt | None:
    return Attempt.objects.filter(
        learner=learner, quiz=quiz, status=AttemptStatus.IN_PROGRESS
    ).first()


# --- answers -----------------------------------------------------------------------------
def check_answer(attempt_item: AttemptItem, answer: Any) -> dict[str, Any]:
    """Validate an answer against its item type's schema; return it normalised (tokens)."""
    handler = handler_for(attempt_item.item_version.item.type)
    return handler.clean_answer(answer, attempt_item.layout)


def to_item_ids(attempt_item: AttemptItem, answer: dict[str, Any] | None) -> dict[str, Any]:
    """Translate an answer from per-attempt tokens to the item's own ids, for scoring."""
    handler = handler_for(attempt_item.item_version.item.type)
    return handler.to_item_ids(answer, attempt_item.layout)


def _fraction(attempt_item: AttemptItem, data: dict[str, Any], item_type: str) -> float:
    """Score of the saved answer (in item ids) against ``data``; no answer scores 0."""
    handler = handler_for(item_type)
    given = handler.to_item_ids(attempt_item.answer, attempt_item.layout)
    return handler.score(data, given) if given else 0.0


def grace() -> timedelta:
    return timedelta(seconds=settings.ATTEMPT_GRACE_SECONDS)


def _locked_attempt(attempt_id: int, *, learner: User | None = None) -> Attempt:
    """The attempt with its quiz, its row locked. With ``learner``, only theirs: anyone
    else's (or none) is a 404, as from ``access_attempt`` with ``write``."""
    if learner is None:
        return Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt_id)
    attempt = (
        Attempt.objects.select_for_update()
        .select_related("quiz")
        .filter(pk=attempt_id, learner=learner)
        .first()
    )
    if attempt is None:
        raise Http404("No such attempt")
    attempt.learner = learner  # the same account: no query to read it again
    return attempt


def _check_open(attempt: Attempt, *, position: int | None, what: str) -> None:
    now = timezone.now()
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise AttemptClosed(f"This attempt was already submitted; {what}.")
    if attempt.deadline and now > attempt.deadline + grace():
        raise AttemptClosed(f"The time limit has passed; {what}.")


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    revision: int
    saved_at: str


def attempt_answer_save(
    *,
    attempt: Attempt | int,
    position: int,
    answer: Any,
    revision: int,
    learner: User | None = None,
) -> SaveResult:
    """Autosave one answer. Older revisions than the stored one are acknowledged, not applied.

    ``attempt`` is the attempt or its id. With ``learner``, the attempt must be theirs, or
    the answer is a 404 as from ``access_attempt``: the API and the attempt page save with
    this guard and read the attempt once, locked, with the question (docs/architecture.md,
    "The hot path").
    """
    attempt_id = attempt if isinstance(attempt, int) else attempt.pk
    if (
        not isinstance(revision, int)
        or isinstance(revision, bool)
        or not 1 <= revision <= MAX_REVISION
    ):
        AUTOSAVE_FAILURES.labels("invalid").inc()
        raise AttemptError(f"The save needs a revision from 1 to {MAX_REVISION}.", field="revision")
    try:
        result = _answer_save(
            attempt_id=attempt_id,
            learner=learner,
            position=position,
            answer=answer,
            revision=revision,
        )
    except AttemptClosed as exc:
        AUTOSAVE_FAILURES.labels("closed").inc()
        # Logged after the failed transaction rolled back, so the refusal is kept.
        AttemptEvent.objects.create(
            attempt_id=attempt_id,
            kind=EventKind.SAVE_REJECTED,
            position=position,
            data={"reason": str(exc), "revision": revision},
        )
        raise
    except (AttemptError, Http404):
        AUTOSAVE_FAILURES.labels("invalid").inc()
        raise
    except Exception:
        AUTOSAVE_FAILURES.labels("error").inc()
        raise
    AUTOSAVES.labels("saved" if result.saved else "stale").inc()
    return result


# What a save reads: the question's answer state and type, and the attempt's clock. The
# version's data (a challenge's tests, a long body) stays in the database.
_SAVE_FIELDS = (
    "attempt",
    "position",
    "layout",
    "answer",
    "answer_revision",
    "saved_at",
    "locked",
    "item_version",
    "item_version__item",
    "item_version__item__type",
    "attempt__learner",
    "attempt__quiz",
    "attempt__status",
    "attempt__deadline",
)


def _question_query(learner: bool) -> CompiledModelQuery:
    def build(attempt_id: int, position: int, *learner_id: int) -> QuerySet[AttemptItem]:
        rows = (
            AttemptItem.objects.select_related("attempt", "item_version__item")
            .select_for_update(of=("attempt",))
            .only(*_SAVE_FIELDS)
            .filter(attempt_id=attempt_id, position=position)
        )
        if learner_id:
            rows = rows.filter(attempt__learner_id=learner_id[0])
        return rows.order_by("pk")[:1]

    return CompiledModelQuery(AttemptItem, build, arity=3 if learner else 2)


# A save's read, compiled once (quizzes/models/sql.py): through the ORM, building the
# statement cost more CPU than the rest of the save's reads and writes.
_QUESTION = _question_query(learner=False)
_QUESTION_OF_LEARNER = _question_query(learner=True)


def _locked_question(*, attempt_id: int, position: int, learner: User | None) -> AttemptItem:
    """The question at ``position`` with its attempt, whose row is locked: one query.

    Refusals as before: another learner's (or no) attempt is a 404 (``access_attempt``),
    a position the attempt does not have is an ``AttemptError``.
    """
    if learner is None:
        found = _QUESTION.fetch(attempt_id, position)
    else:
        found = _QUESTION_OF_LEARNER.fetch(attempt_id, position, learner.pk)
    if not found:
        if learner is not None:
            access_attempt(user=learner, attempt_id=attempt_id, write=True)  # 404 if not theirs
        raise AttemptError("There is no such question in this attempt.")
    item: AttemptItem = found[0]
    return item


def _answer_save(
    *, attempt_id: int, learner: User | None, position: int, answer: Any, revision: int
) -> SaveResult:
    with transaction.atomic():
        item = _locked_question(attempt_id=attempt_id, position=position, learner=learner)
        _check_open(item.attempt, position=position, what="this answer was not saved")
        if item.locked:
            raise AttemptClosed("This answer was checked and is locked.")
        try:
            clean = check_answer(item, answer)
        except AnswerError as exc:
            field = "answer" if exc.field == "answer" else f"answer.{exc.field}"
            raise AttemptError(str(exc), field=field) from exc
        if revision <= item.answer_revision:
            return SaveResult(False, item.answer_revision, _iso(item.saved_at))
        # The revision is stored even when the answer is unchanged (a late, older save
        # must still lose to it); the answer and the log only when it changed.
        changed = clean != item.answer
        item.answer = clean
        item.answer_revision = revision
        item.saved_at = timezone.now()
        fields = ["answer_revision", "saved_at", *(["answer"] if changed else [])]
        item.save(update_fields=fields)
        if changed:
            AttemptEvent.objects.create(
                attempt_id=attempt_id,
                kind=EventKind.SAVED,
                position=position,
                data={"revision": revision},
            )
    return SaveResult(True, revision, _iso(item.saved_at))


def _iso(value: Any) -> str:
    return value.isoformat() if value else ""


def attempt_item_flag(*, attempt: Attempt, position: int, flagged: bool) -> None:
    with transaction.atomic():
        attempt = _locked_attempt(attempt.pk)
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise AttemptClosed("This attempt was already submitted.")
        updated = attempt.items.filter(position=position).update(flagged=flagged)
        if not updated:
            raise AttemptError("There is no such question in this attempt.")


def attempt_examples_run(
    *,
    attempt: Attempt,
    position: int,
    code: str,
    idempotency_key: str = "",
    language: str | None = None,
) -> Submission:
    """Queue a run of a challenge's visible examples against ``code`` (not saved, not scored).

    Allowed on the same terms as a save: while the attempt is open, before deadline + grace.
    A retried request with the same ``idempotency_key`` returns the first run.
    """
    if not isinstance(code, str) or not code.strip():
        raise AttemptError("Write some code before running the examples.")
    if len(code.encode()) > MAX_CODE_BYTES:
        raise AttemptError(f"Code must be text of at most {MAX_CODE_BYTES // 1024} KiB.")
    if len(idempotency_key) > MAX_RUN_REQUEST_ID:
        raise AttemptError(f"The request id has more than {MAX_RUN_REQUEST_ID} characters.")
    with transaction.atomic():
        attempt = _locked_attempt(attempt.pk)
        item = attempt.items.select_related("item_version__item").filter(position=position).first()
        if item is None:
            raise AttemptError("There is no such question in this attempt.")
        _check_open(attempt, position=position, what="the examples were not run")
        handler = handler_for(item.item_version.item.type)
        if not handler.needs_sandbox:
            raise AttemptError("Only coding challenges have examples to run.")
        data = item.item_version.data
        written_in = handler.submission_language(data, {"language": language} if language else None)
        if language and written_in != language:
            raise AttemptError(f"This challenge cannot be run in {language!r}.", field="language")
        return submission_create(
            learner=attempt.learner,
            item_version=item.item_version,
            source=code,
            language=written_in,
            kind=SubmissionKind.RUN_EXAMPLES,
            attempt_item=item,
            idempotency_key=f"{RUN_KEY_PREFIX}{idempotency_key}" if idempotency_key else "",
        )


def _score_objective_item(item: AttemptItem, now: Any, *, save: bool = True) -> None:
    version = item.item_version
    fraction = _fraction(item, version.data, version.item.type)
    item.score = (Decimal(str(fraction)) * item.max_score).quantize(Decimal("0.01"))
    item.is_correct = fraction >= 1.0
    item.graded_at = now
    if save:
        item.save(update_fields=["score", "is_correct", "graded_at", "locked"])


def attempt_item_check(*, attempt: Attempt, position: int) -> AttemptItem:
    """Immediate-feedback quizzes: score one objective answer now and lock it."""
    with transaction.atomic():
        attempt = _locked_attempt(attempt.pk)
        if attempt.quiz.feedback_mode != FeedbackMode.IMMEDIATE:
            raise AttemptError("This quiz shows feedback only at the end.")
        item = attempt.items.select_related("item_version__item").filter(position=position).first()
        if item is None:
            raise AttemptError("There is no such question in this attempt.")
        if item.locked:
            return item
        _check_open(attempt, position=position, what="the answer was not checked")
        if not handler_for(item.item_version.item.type).scored_at_submit:
            raise AttemptError("Submit code with the challenge's Submit button.")
        if not item.answer:
            raise AttemptError("Answer the question before checking it.")
        item.locked = True
        _score_objective_item(item, timezone.now())
        AttemptEvent.objects.create(attempt=attempt, kind=EventKind.CHECKED, position=position)
    return item


def attempt_placement_next(*, attempt: Attempt, position: int) -> Attempt:
    """Adaptive placement: score the item at ``position`` (locking it; no answer scores 0)
    and add the next item the answers so far call for, or submit when the test is over.

    Idempotent: a repeated request for a position already answered changes nothing.
    """
    with transaction.atomic():
        attempt = _locked_attempt(attempt.pk)
        if not attempt.quiz.is_adaptive:
            raise AttemptError("Only the placement quiz picks its questions one at a time.")
        if attempt.status != AttemptStatus.IN_PROGRESS:
            return attempt
        items = list(attempt.items.select_related("item_version__item__stage").order_by("position"))
        current = items[-1] if items else None
        if current is None or position > current.position or position < 1:
            raise AttemptError("There is no such question in this attempt.")
        if position < current.position or current.locked:
            return attempt  # a repeated click: that question was already answered
        _check_open(attempt, position=position, what="the answer was not recorded")
        current.locked = True
        _score_objective_item(current, timezone.now())
        AttemptEvent.objects.create(attempt=attempt, kind=EventKind.CHECKED, position=position)
        chosen = placement_choose(attempt, items)
        if chosen is None or chosen.current_version is None:
            return attempt_submit(attempt=attempt)
        version = chosen.current_version
        AttemptItem.objects.create(
            attempt=attempt,
            item_version=version,
            position=position + 1,
            layout=handler_for(chosen.type).layout(
                version.data,
                random.Random(attempt.seed + position),  # noqa: S311 (shuffling)
                shuffle=attempt.quiz.shuffle_choices,
            ),
            max_score=version.points,
        )
        attempt.max_score += version.points
        attempt.save(update_fields=["max_score"])
    return attempt


# --- submit ------------------------------------------------------------------------------
def attempt_submit(
    *, attempt: Attempt | int, auto: bool = False, learner: User | None = None
) -> Attempt:
    """Submit once: score objective items, send code to grading. Repeats are no-ops.

    ``attempt`` is the attempt or its id. With ``learner``, it must be theirs (else 404,
    as ``access_attempt`` with ``write``): the pages and the API submit with one read of
    the attempt, locked. Rows are written only where they change: an update per distinct
    outcome of the questions, one for the attempt, one insert for the log
    (docs/architecture.md, "The hot path").
    """
    attempt_id = attempt if isinstance(attempt, int) else attempt.pk
    with transaction.atomic():
        locked = _locked_attempt(attempt_id, learner=learner)
        if locked.status != AttemptStatus.IN_PROGRESS:
            return locked
        now = timezone.now()
        items = list(locked.items.select_related("item_version__item"))
        changed: list[AttemptItem] = []
        pending_code = False
        for item in items:
            handler = handler_for(item.item_version.item.type)
            if handler.needs_sandbox and not handler.is_blank(item.item_version.data, item.answer):
                submission_create(
                    learner=locked.learner,
                    item_version=item.item_version,
                    # Printable: an answer stored before input was checked may hold
                    # a lone surrogate, which no database text column takes.
                    source=printable(str((item.answer or {})["code"])),
                    language=handler.submission_language(item.item_version.data, item.answer),
                    kind=SubmissionKind.SUBMIT,
                    attempt_item=item,
                )
                pending_code = True
            elif handler.needs_sandbox:
                item.score, item.is_correct, item.graded_at = Decimal(0), False, now
            elif item.graded_at is None:
                _score_objective_item(item, now, save=False)
            if not item.locked or item.graded_at == now:
                item.locked = True
                changed.append(item)
        _items_write(changed)
        locked.submitted_at = now
        locked.auto_submitted = auto
        locked.status = AttemptStatus.SUBMITTED
        fields = ["submitted_at", "auto_submitted", "status"]
        events = [
            AttemptEvent(
                attempt=locked, kind=EventKind.AUTO_SUBMITTED if auto else EventKind.SUBMITTED
            )
        ]
        total = None if pending_code else _total_when_graded(locked, items)
        if total is not None:
            events.append(_grade(locked, total))
            fields += [name for name in _GRADE_FIELDS if name not in fields]
        locked.save(update_fields=fields)
        AttemptEvent.objects.bulk_create(events)
    ATTEMPTS_SUBMITTED.labels("deadline" if auto else "learner").inc()
    return locked


def _items_write(items: list[AttemptItem]) -> None:
    """Store the score and lock of ``items``: one UPDATE per distinct outcome (a handful
    at most: right, wrong, partial, only locked). Cheaper than ``bulk_update``, whose
    CASE per row and column cost more CPU than the statements it saves."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for item in items:
        key = (item.score, item.is_correct, item.graded_at, item.locked)
        groups.setdefault(key, []).append(item.pk)
    for (score, is_correct, graded_at, locked), pks in groups.items():
        AttemptItem.objects.filter(pk__in=pks).update(
            score=score, is_correct=is_correct, graded_at=graded_at, locked=locked
        )


def _percent(attempt: Attempt, total: Decimal) -> float:
    return float(total) * 100 / float(attempt.max_score) if attempt.max_score else 0.0


_GRADE_FIELDS = ["score", "status", "graded_at", "passed"]


def _total_when_graded(attempt: Attempt, items: list[AttemptItem] | None = None) -> Decimal | None:
    """The attempt's total once every item is graded, else None; from ``items`` when the
    caller holds them all, else from the database."""
    if items is not None:
        if any(item.graded_at is None for item in items):
            return None
        return sum((item.score or Decimal(0) for item in items), Decimal(0))
    sums = attempt.items.aggregate(
        total=Sum("score"), ungraded=Count("pk", filter=Q(graded_at__isnull=True))
    )
    if sums["ungraded"]:
        return None
    return sums["total"] or Decimal(0)


def _grade(attempt: Attempt, total: Decimal, *, by: dict[str, Any] | None = None) -> AttemptEvent:
    """Set the attempt's total, pass/fail and GRADED (``_GRADE_FIELDS``, not saved); return
    its log entry (not saved). ``by`` names who caused a regrade."""
    regrade = attempt.status == AttemptStatus.GRADED
    attempt.score = total
    attempt.status = AttemptStatus.GRADED
    attempt.graded_at = timezone.now()
    percent = _percent(attempt, total)
    attempt.passed = percent >= attempt.quiz.pass_mark_percent
    if attempt.learner_id is not None:
        skill_update_request(attempt.learner_id)
    return AttemptEvent(
        attempt=attempt,
        kind=EventKind.REGRADED if regrade else EventKind.GRADED,
        data={"score": str(total), "percent": round(percent, 2)} | (by or {}),
    )


def _finalize(attempt: Attempt, *, by: dict[str, Any] | None = None) -> None:
    """All items graded → total, pass/fail, GRADED. Caller holds the attempt's row lock.

    ``by`` names who caused a regrade, for the event log.
    """
    total = _total_when_graded(attempt)
    if total is None:
        return
    event = _grade(attempt, total, by=by)
    attempt.save(update_fields=_GRADE_FIELDS)
    event.save()


class _DrainKicker:
    """Sends the skill drain task once a request is committed: at once when this process
    sent none in the last ``SKILL_DRAIN_COALESCE_SECONDS``, else once more at the end of
    that window, which serves every request committed meanwhile. So a burst of grades
    costs at most two sends per window per process, and no request waits longer than a
    window for its drain. A send that fails is logged; the request stays in the table for
    the next drain or the periodic refresh."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window_ends = 0.0
        self.trailing = False

    def kick(self) -> None:
        now = time.monotonic()
        with self.lock:
            if now >= self.window_ends:
                self.window_ends = now + settings.SKILL_DRAIN_COALESCE_SECONDS
                self.trailing = False
                countdown = 0.0
            elif not self.trailing:
                self.trailing = True
                countdown = self.window_ends - now
            else:
                return
        try:
            current_app.send_task(
                SKILL_DRAIN_TASK,
                countdown=countdown or None,
                retry=True,
                retry_policy={"max_retries": 1},
            )
        except Exception:
            with self.lock:
                self.window_ends, self.trailing = 0.0, False
            logger.warning(
                "could not send the skill drain; the next one or the refresh will do it",
                exc_info=True,
            )


_drain_kicker = _DrainKicker()


def skill_updates_kick() -> None:
    """Have the drain task sent (coalesced as above): once a request is committed, or
    when a drain stops with requests left."""
    _drain_kicker.kick()


def _request_sql(n: Names) -> str:
    learner = n.col(SkillUpdateRequest, "learner")
    at = n.col(SkillUpdateRequest, "requested_at")
    return (
        f"INSERT INTO {n.table(SkillUpdateRequest)} ({learner}, {at}) VALUES (%s, %s) "  # noqa: S608
        f"ON CONFLICT ({learner}) DO UPDATE SET {at} = excluded.{at}"
    )


_REQUEST = HandWritten(_request_sql)


def skill_update_request(learner_id: int) -> None:
    """Mark the learner's estimates out of date, in the caller's transaction (one upsert),
    and have the drain task sent once it commits (quizzes.analytics.skill)."""
    connection = connection_for(SkillUpdateRequest)
    with connection.cursor() as cursor:
        cursor.execute(
            _REQUEST.on(connection), [learner_id, adapt_datetime(connection, timezone.now())]
        )
    transaction.on_commit(skill_updates_kick, using=connection.alias)


class GradedCode(Protocol):
    """A finished code submission, as the grading service holds it."""

    @property
    def attempt_item_id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def score(self) -> float | None: ...
    @property
    def item_version_id(self) -> int: ...


# The grade's reads, compiled once (quizzes/models/sql.py). The first locks the attempt
# (its row only: OF self) and reads what the grade needs of it, its quiz and the item.
_GRADE_READ = (
    "pk", "status", "max_score", "learner_id", "quiz__pass_mark_percent",
    "items__max_score", "items__item_version_id",
)  # fmt: skip
_GRADE_LOCK = CompiledQuery(
    Attempt,
    lambda attempt_item_id: (
        Attempt.objects.select_for_update(of=("self",))
        .filter(items__pk=attempt_item_id)
        .values_list(*_GRADE_READ)
    ),
    arity=1,
)
# The attempt's total and how many of its items wait for a grade; run after the item's
# UPDATE, under the attempt's lock, so that it sees every other item's committed grade.
_GRADE_SUMS = CompiledQuery(
    AttemptItem,
    lambda attempt_id: (
        AttemptItem.objects.filter(attempt_id=attempt_id)
        .values("attempt_id")
        .annotate(total=Sum("score"), ungraded=Count("pk", filter=Q(graded_at__isnull=True)))
        .values_list("total", "ungraded")
    ),
    arity=1,
)


def _grade_sql(n: Names) -> tuple[str, str, str]:
    """The grade's writes: the item's score, the attempt's total, its log entry."""
    item_sets = ", ".join(
        f"{n.col(AttemptItem, name)} = %s"
        for name in ("score", "is_correct", "graded_at", "scored_with")
    )
    attempt_sets = ", ".join(
        f"{n.col(Attempt, name)} = %s" for name in ("status", "graded_at", "score", "passed")
    )
    event_cols = ("attempt", "kind", "at", "position", "data")
    return (
        f"UPDATE {n.table(AttemptItem)} SET {item_sets} "  # noqa: S608
        f"WHERE {n.col(AttemptItem, 'id')} = %s",
        f"UPDATE {n.table(Attempt)} SET {attempt_sets} WHERE {n.col(Attempt, 'id')} = %s",  # noqa: S608
        f"INSERT INTO {n.table(AttemptEvent)} ({n.cols(AttemptEvent, event_cols)}) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, %s)",
    )


_GRADE_WRITES = HandWritten(_grade_sql)


def attempt_item_apply_grade(*, submission: GradedCode) -> None:
    """A graded code submission sets its attempt item's score; may finish the attempt.

    Called inside the grading service's guarded transaction, on every graded submission:
    its statements are compiled once and run on a cursor (quizzes/models/sql.py). The
    outcome is the ORM's ``_finalize``: the same total, pass mark, event and skill update.
    """
    if submission.attempt_item_id is None or submission.kind != SubmissionKind.SUBMIT:
        return
    connection = connection_for(Attempt)
    item_sql, attempt_sql, event_sql = _GRADE_WRITES.on(connection)
    now = adapt_datetime(connection, timezone.now())
    with connection.cursor() as cursor:
        row = _GRADE_LOCK.execute(cursor, submission.attempt_item_id).fetchone()
        if row is None:
            return  # the attempt is gone (deleted with its learner's data)
        attempt_id, status, attempt_max, learner_id, pass_mark, item_max, version_id = row
        fraction = submission.score or 0.0
        score = (Decimal(str(fraction)) * read_decimal(item_max)).quantize(Decimal("0.01"))
        # A regrade grades the code against the item's current version: its review shows that.
        scored_with = (
            submission.item_version_id if submission.item_version_id != version_id else None
        )
        cursor.execute(
            item_sql, [score, fraction >= 1.0, now, scored_with, submission.attempt_item_id]
        )
        if status not in (AttemptStatus.SUBMITTED, AttemptStatus.GRADED):
            return
        total, ungraded = _GRADE_SUMS.execute(cursor, attempt_id).fetchone() or (None, 0)
        if ungraded:
            return
        total = read_decimal(total).quantize(Decimal("0.01"))
        attempt_max = read_decimal(attempt_max)
        percent = float(total) * 100 / float(attempt_max) if attempt_max else 0.0
        regrade = status == AttemptStatus.GRADED
        data = {"score": str(total), "percent": round(percent, 2)}
        attempt_params = [AttemptStatus.GRADED.value, now, total, percent >= pass_mark, attempt_id]
        event_params = [
            attempt_id,
            (EventKind.REGRADED if regrade else EventKind.GRADED).value,
            now,
            None,
            adapt_json(connection, data),
        ]
        if client_side_binding(connection):
            # Two statements, one round trip (psycopg binds the values on this side).
            cursor.execute(f"{attempt_sql}; {event_sql}", attempt_params + event_params)
        else:
            cursor.execute(attempt_sql, attempt_params)
            cursor.execute(event_sql, event_params)
    if learner_id is not None:
        skill_update_request(learner_id)


def expired_attempts() -> QuerySet[Attempt]:
    return Attempt.objects.filter(
        status=AttemptStatus.IN_PROGRESS, deadline__lt=timezone.now() - grace()
    )


def attempt_is_expired(attempt: Attempt) -> bool:
    return bool(
        attempt.status == AttemptStatus.IN_PROGRESS
        and attempt.deadline
        and timezone.now() > attempt.deadline + grace()
    )


def attempts_autosubmit_expired() -> int:
    """Submit, with what was saved, every attempt past its deadline (+ grace)."""
    count = 0
    for attempt_id in expired_attempts().values_list("pk", flat=True)[:500]:
        attempt = attempt_submit(attempt=Attempt(pk=attempt_id), auto=True)
        count += int(attempt.auto_submitted)
    return count


def seconds_left(attempt: Attempt) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - timezone.now()).total_seconds()))


# --- regrade -----------------------------------------------------------------------------
class RegradeError(Exception):
    """A regrade that cannot be applied as asked; nothing was changed. For the author."""


@dataclass(frozen=True)
class RegradeChange:
    """One past answer whose score a regrade changes (or, for code, sends to grading)."""

    attempt_id: int
    learner: str
    quiz: str
    attempt_number: int
    position: int
    old_score: Decimal | None
    new_score: Decimal | None  # None: code, graded again by the workers
    max_score: Decimal
    old_total: Decimal | None
    new_total: Decimal | None
    was_passed: bool | None
    now_passed: bool | None


@dataclass
class RegradePlan:
    """What ``item_regrade`` would do now, computed without changing anything."""

    version: int | None
    changes: list[RegradeChange] = field(default_factory=list)
    resubmits: list[RegradeChange] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0


@dataclass
class RegradeReport:
    rescored: int = 0
    resubmitted: int = 0
    skipped: int = 0
    attempts: set[int] = field(default_factory=set)


def _regrade_answers(item: Item) -> QuerySet[AttemptItem]:
    return (
        AttemptItem.objects.filter(
            item_version__item=item,
            graded_at__isnull=False,
            attempt__status__in=[AttemptStatus.SUBMITTED, AttemptStatus.GRADED],
        )
        .select_related("attempt__quiz", "attempt__learner", "item_version")
        .order_by("attempt_id", "position")
    )


def _rescore(answer: AttemptItem, data: dict[str, Any], item_type: str) -> tuple[Decimal, bool]:
    fraction = _fraction(answer, data, item_type)
    return (Decimal(str(fraction)) * answer.max_score).quantize(Decimal("0.01")), fraction >= 1.0


def _passes(attempt: Attempt, total: Decimal) -> bool:
    return _percent(attempt, total) >= attempt.quiz.pass_mark_percent


def _change(answer: AttemptItem, new_score: Decimal | None) -> RegradeChange:
    attempt = answer.attempt
    graded = attempt.status == AttemptStatus.GRADED and attempt.score is not None
    new_total = (
        (attempt.score or Decimal(0)) - (answer.score or Decimal(0)) + new_score
        if graded and new_score is not None
        else None
    )
    return RegradeChange(
        attempt_id=attempt.pk,
        learner=attempt.learner.email if attempt.learner else "deleted account",
        quiz=attempt.quiz.title,
        attempt_number=attempt.number,
        position=answer.position,
        old_score=answer.score,
        new_score=new_score,
        max_score=answer.max_score,
        old_total=attempt.score if graded else None,
        new_total=new_total,
        was_passed=attempt.passed if graded else None,
        now_passed=_passes(attempt, new_total) if new_total is not None else None,
    )


def item_regrade_preview(*, item: Item) -> RegradePlan:
    """The dry run of ``item_regrade``: which past answers would change, and how.

    Reads only. Objective answers are re-scored in memory with the current version's key;
    code answers are listed as "graded again" (only the sandbox can tell their new score).
    """
    current = item.current_version
    plan = RegradePlan(version=current.number if current else None)
    if current is None:
        return plan
    handler = handler_for(item.type)
    for answer in _regrade_answers(item):
        if handler.needs_sandbox:
            if answer.submissions.filter(kind=SubmissionKind.SUBMIT).exists():
                plan.resubmits.append(_change(answer, None))
            else:
                plan.skipped += 1
        elif not _ids_compatible(answer.item_version.data, current.data):
            plan.skipped += 1
        else:
            new_score, _ = _rescore(answer, current.data, item.type)
            if new_score == answer.score:
                plan.unchanged += 1
            else:
                plan.changes.append(_change(answer, new_score))
    return plan


def item_regrade(*, item: Item, actor: User, version: int) -> RegradeReport:
    """Re-score past answers to ``item`` with its current version (explicit, audited).

    ``version`` is the version the author reviewed in the dry run
    (``item_regrade_preview``); if the item changed since, nothing is done. Attempts keep
    the version they were given; a changed answer records the version that scored it
    (``AttemptItem.scored_with``), so its review shows that key. Objective answers are
    re-scored at once; code is graded again by the workers. Every change is logged as a
    ``REGRADED`` event naming who regraded.
    """
    current = item.current_version
    if current is None:
        raise RegradeError("the item has no version to regrade with.")
    if current.number != version:
        raise RegradeError(
            f"the item changed since you reviewed the regrade (now v{current.number}); "
            "review it again."
        )
    report = RegradeReport()
    handler = handler_for(item.type)
    by = {"by": actor.email, "by_id": actor.pk}
    for answer in _regrade_answers(item):
        if handler.needs_sandbox:
            final = answer.submissions.filter(kind=SubmissionKind.SUBMIT).order_by("-pk").first()
            if final is None:
                report.skipped += 1
                continue
            with transaction.atomic():
                attempt = _locked_attempt(answer.attempt_id)
                submission_create(
                    learner=attempt.learner,
                    item_version=current,
                    source=final.source,
                    language=final.language,
                    attempt_item=answer,
                )
                AttemptEvent.objects.create(
                    attempt=attempt,
                    kind=EventKind.REGRADED,
                    position=answer.position,
                    data={"item": item.slug, "version": current.number, "graded_again": True} | by,
                )
            report.resubmitted += 1
            continue
        if not _ids_compatible(answer.item_version.data, current.data):
            report.skipped += 1
            continue
        with transaction.atomic():
            attempt = _locked_attempt(answer.attempt_id)
            answer.refresh_from_db(fields=["score", "is_correct", "graded_at", "scored_with"])
            new_score, is_correct = _rescore(answer, current.data, item.type)
            if new_score == answer.score:
                continue
            previous = answer.score
            answer.score, answer.is_correct = new_score, is_correct
            answer.graded_at = timezone.now()
            answer.scored_with = current if current.pk != answer.item_version_id else None
            answer.save(update_fields=["score", "is_correct", "graded_at", "scored_with"])
            AttemptEvent.objects.create(
                attempt=attempt,
                kind=EventKind.REGRADED,
                position=answer.position,
                data={
                    "item": item.slug,
                    "version": current.number,
                    "previous_score": str(previous),
                    "score": str(new_score),
                }
                | by,
            )
            if attempt.status == AttemptStatus.GRADED:
                _finalize(attempt, by=by)
            report.rescored += 1
            report.attempts.add(attempt.pk)
    return report


def _ids_compatible(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Ids are positional (c1, s1, p1…): a regrade is meaningful only if they line up."""
    for key in ("choices", "sequence", "pairs"):
        if len(old.get(key, [])) != len(new.get(key, [])):
            return False
    return True
