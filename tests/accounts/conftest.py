from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated_rate_limits(private_cache: Any) -> None:
    """Every accounts test starts with no rate-limit history."""
