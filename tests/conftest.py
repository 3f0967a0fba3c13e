"""Hypothesis profiles for the whole suite.

``ci`` (the default) keeps the fuzz tests fast; ``long`` runs many more examples:

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/fuzz

Tests that want the profile's example count leave ``max_examples`` out of their ``@settings``;
those that pin it keep their own count under every profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
