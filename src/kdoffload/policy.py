"""The one interface every decision-maker implements.

A policy maps a batch of requirements to an ``(n, |A|)`` int64 array of locations
(0 device, 1 edge, 2 cloud). Exact solvers, heuristics and learned networks all
implement it, so evaluation, figures and the delay table treat them alike.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from .system import Requirements


@runtime_checkable
class Policy(Protocol):
    """Anything with a ``name`` and a ``decide(req) -> (n, |A|) int64`` method."""

    name: str

    def decide(self, req: Requirements) -> np.ndarray:
        """Locations (n, |A|) in {0, 1, 2} for each requirement of ``req``."""
        ...
