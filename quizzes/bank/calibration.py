"""Items' IRT parameters: calibrated from responses, or provisional from the author's
difficulty until enough learners answered (see docs/architecture.md, "Skill model")."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from quizzes.models import Item, ItemCalibration
from quizzes.skill import ItemParams, prior_params


def item_params(items: Iterable[Item]) -> dict[Hashable, ItemParams]:
    """Parameters for each item (keyed by item id); items need ``current_version`` loaded.

    One query for the calibrations of all the items.
    """
    items = list(items)
    calibrations = {
        c.item_id: c
        for c in ItemCalibration.objects.filter(item_id__in=[i.pk for i in items], calibrated=True)
    }
    params: dict[Hashable, ItemParams] = {}
    for item in items:
        found = calibrations.get(item.pk)
        if found is not None:
            params[item.pk] = ItemParams(
                a=found.a, b=found.b, se_a=found.se_a, se_b=found.se_b, calibrated=True
            )
        else:
            params[item.pk] = prior_for(item)
    return params


def prior_for(item: Item) -> ItemParams:
    version = item.current_version
    return prior_params(version.difficulty if version is not None else 3)
