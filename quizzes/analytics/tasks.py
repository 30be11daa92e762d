"""Celery tasks of the skill model: thin wrappers over quizzes.analytics.skill."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from quizzes.analytics.skill import (
    skill_calibrate,
    skill_refresh,
    skill_update_learner,
    skill_updates_drain,
)
from quizzes.assessments.services import SKILL_DRAIN_TASK, SKILL_UPDATE_TASK


@shared_task(name=SKILL_DRAIN_TASK, ignore_result=True, acks_late=True)
def drain_updates() -> int:
    # Idempotent: each update recomputes from all the evidence, and a request is removed
    # only once it has been served.
    return skill_updates_drain()


@shared_task(name=SKILL_UPDATE_TASK, ignore_result=True, acks_late=True)
def update_learner(learner_id: int) -> None:
    # Messages of earlier releases, one per learner. Idempotent: it recomputes from all
    # the evidence, so a redelivery changes nothing.
    skill_update_learner(learner_id)


@shared_task(name="skillmap.skill.calibrate", ignore_result=True)
def calibrate_items() -> dict[str, float]:
    report = skill_calibrate()
    return {
        "responses": report.responses,
        "items_calibrated": report.items_calibrated,
        "learners_updated": report.learners_updated,
        "seconds": round(report.seconds, 3),
    }


@shared_task(name="skillmap.skill.refresh", ignore_result=True)
def refresh_learners() -> int:
    # Twice the interval: a run that was late or lost leaves no learner behind.
    return skill_refresh(window=timedelta(seconds=2 * settings.SKILL_REFRESH_SECONDS))
