"""Evaluation of policies: latency normalised to the optimal decisions (Assumptions, point 6).

"Normalised latency" is not defined in the paper. Our default is the ratio of mean
latencies over a test set, ``mean(latency(policy)) / mean(latency(optimal))``. Because
``1/b`` is heavy-tailed, we also report the mean and the median of the per-sample ratios
``latency(policy)_k / latency(optimal)_k``.
"""

from __future__ import annotations

import numpy as np

from .system import Requirements, check_decisions, cost_tensors, latency, path_cost


class Scorer:
    """Decisions on fixed requirements scored against fixed optimal decisions.

    The latency cost tensors of ``req`` are built once, so a trained network's validation
    (every epoch, :mod:`kdoffload.train` and :mod:`kdoffload.drl`) and a test-set summary
    (:func:`summarize`) compute the same metrics the same way. Latencies in seconds.
    """

    def __init__(self, req: Requirements, optimal_decisions, output_return: bool = True):
        self.tensors = cost_tensors(req, output_return=output_return)
        self.optimal = check_decisions(optimal_decisions, req)
        self.optimal_latencies = path_cost(*self.tensors, self.optimal)
        self.optimal_mean = self.optimal_latencies.mean()

    def latencies(self, decisions: np.ndarray) -> np.ndarray:
        """Latency (n,) of ``decisions`` (an (n, |A|) int array; not checked), seconds."""
        return path_cost(*self.tensors, decisions)

    def normalized_latency(self, decisions: np.ndarray) -> float:
        """Mean latency of ``decisions`` / mean latency of the optimal decisions."""
        return float(self.latencies(decisions).mean() / self.optimal_mean)

    def accuracy(self, decisions: np.ndarray) -> float:
        """Share of requirements whose whole decision is the optimal one."""
        return float((decisions == self.optimal).all(axis=1).mean())

    def subtask_accuracy(self, decisions: np.ndarray) -> float:
        """Share of single subtask placements that are the optimal ones."""
        return float((decisions == self.optimal).mean())


def normalized_latency(req: Requirements, decisions, optimal_decisions, output_return: bool = True) -> float:
    """Mean latency of ``decisions`` divided by the mean latency of ``optimal_decisions``."""
    return Scorer(req, optimal_decisions, output_return).normalized_latency(check_decisions(decisions, req))


def latency_ratios(req: Requirements, decisions, optimal_decisions, output_return: bool = True) -> np.ndarray:
    """Per-sample ratios (n,) of the latency of ``decisions`` to the optimal latency.

    A sample whose optimal latency is 0 (only possible with zero cycles and sizes) gets
    ratio 1 if the policy also reaches 0, else ``inf``.
    """
    return ratio_of_latencies(latency(req, decisions, output_return), latency(req, optimal_decisions, output_return))


def ratio_of_latencies(policy_latency, optimal_latency) -> np.ndarray:
    """Elementwise ``policy_latency / optimal_latency`` (arrays that broadcast), with the
    convention of :func:`latency_ratios` where the optimal latency is 0: 1 if the policy's
    latency is 0 too, else ``inf``."""
    policy_latency, optimal_latency = np.broadcast_arrays(np.asarray(policy_latency, dtype=np.float64),
                                                          np.asarray(optimal_latency, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = policy_latency / optimal_latency
    zero = optimal_latency == 0
    ratios[zero] = np.where(policy_latency[zero] == 0, 1.0, np.inf)
    return ratios


def summarize(req: Requirements, decisions, optimal_decisions, output_return: bool = True) -> dict[str, float]:
    """Normalised latency (ratio of means), mean and median per-sample ratio, and accuracy.

    ``accuracy`` is the share of samples whose whole decision equals the optimal one;
    ``subtask_accuracy`` the share of single subtask placements that do.
    """
    decisions = check_decisions(decisions, req)
    scorer = Scorer(req, optimal_decisions, output_return)
    ratios = ratio_of_latencies(scorer.latencies(decisions), scorer.optimal_latencies)
    return {
        "normalized_latency": scorer.normalized_latency(decisions),
        "mean_ratio": float(ratios.mean()),
        "median_ratio": float(np.median(ratios)),
        "accuracy": scorer.accuracy(decisions),
        "subtask_accuracy": scorer.subtask_accuracy(decisions),
    }
