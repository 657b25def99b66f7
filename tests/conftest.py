"""Fixtures of the whole suite: the test-only toy experiment ``_toy.counter`` is registered."""

from __future__ import annotations

import toy_experiment  # noqa: F401  (registers _toy.counter)
