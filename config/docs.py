"""The API's documentation pages need a little more from the Content Security Policy."""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.http import HttpResponseBase


def redoc_csp(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """ReDoc styles itself with inline ``<style>`` elements and searches in a ``blob:``
    worker; the page holds no user data, only the published schema."""
    return csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(view)
