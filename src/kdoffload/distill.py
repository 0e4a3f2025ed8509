"""Knowledge distillation (§4, §5.2): softening, the KD loss and the KD-DIL student.

Procedure (the paper's): the teacher (the §5.1 DIL network, trained on the 100,000 wide
samples) labels the 1,000 narrow samples with its softmax probabilities per subtask;
those labels are softened at temperature T (the paper uses T = 5) and the student
(2 hidden layers of 32) is trained on them with soft cross-entropy. ``alpha`` mixes in
the exact (hard) labels; the paper uses soft labels only (``alpha = 0``).

Softening (Assumptions, point 12): the paper's formula is lost. :func:`soften` implements
Hinton's form ``q_i ∝ p_i^(1/T)`` — the same as dividing the teacher's logits by T
before the softmax. It meets every property the text states (T >= 1, T = 1 leaves p
unchanged, softer with higher T) but not the worked example: for p = (0.999, 2e-4,
3e-6) it gives (0.79, 0.14, 0.06) at T = 5 and (0.59, 0.25, 0.16) at T = 10 where the
paper prints (0.71, 0.20, 0.09) and (0.53, 0.28, 0.19) (:func:`softening_example`).

Reference: G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural
Network", NIPS Deep Learning Workshop 2014, arXiv:1503.02531.
"""

from __future__ import annotations

import time
from numbers import Real

import joblib
import numpy as np
import pandas as pd

from . import __version__, paper
from .data import memory
from .nets import MLPPolicy
from .train import (
    STUDENT_CONFIG, TrainConfig, check_profile, datasets, fit, input_width, new_model, one_hot, profile_config,
)

#: Tolerance on "each row sums to 1" for :func:`soften`'s input.
SUM_TOLERANCE = 1e-4


def _check_temperature(T) -> float:
    if isinstance(T, bool) or not isinstance(T, Real):
        raise ValueError(f"temperature T must be a real number >= 1, got T = {T!r}")
    if np.isnan(T):
        raise ValueError("temperature T must be a real number >= 1, got T = nan")
    if T < 1:
        raise ValueError(f"temperature T must be >= 1 (the paper's constraint), got T = {T!r}")
    if np.isinf(T):
        raise ValueError(f"temperature T must be finite, got T = {T!r}")
    return float(T)


def _check_probabilities(p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] < 1 or p.size == 0:
        raise ValueError(f"p must be an array of probability rows (..., C), got shape {p.shape}")
    if np.isnan(p).any():
        index = tuple(int(i) for i in np.argwhere(np.isnan(p))[0])
        raise ValueError(f"p must not contain NaN, got p{list(index)} = nan")
    if (p < 0).any() or np.isinf(p).any():
        index = tuple(int(i) for i in np.argwhere((p < 0) | np.isinf(p))[0])
        raise ValueError(f"p must be probabilities in [0, 1], got p{list(index)} = {p[index]}")
    sums = p.sum(axis=-1)
    bad = np.abs(sums - 1) > SUM_TOLERANCE
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if sums.ndim else ()
        raise ValueError(f"each row of p must sum to 1, got a row {list(index)} summing to {float(sums[index]):.6g}")
    return p


def soften(p, T: float = paper.TEMPERATURE) -> np.ndarray:
    """Softened probabilities ``q_i = p_i^(1/T) / sum_j p_j^(1/T)`` over the last axis (Hinton's form).

    Parameters
    ----------
    p : array (..., C)
        Probability rows: non-negative, each summing to 1 (within 1e-4).
    T : float
        Temperature, ``T >= 1``; ``T = 1`` returns ``p`` (as float64), higher T is softer.

    Returns
    -------
    q : array (..., C) float64, rows summing to 1, in the same order as ``p``.

    Raises
    ------
    ValueError
        If T < 1, NaN or infinite, or p has NaN, negative entries or rows not summing to 1.
    """
    T = _check_temperature(T)
    p = _check_probabilities(p)
    if T == 1:
        return p.copy()
    with np.errstate(divide="ignore"):
        scaled = np.log(p) / T
    scaled -= scaled.max(axis=-1, keepdims=True)
    q = np.exp(scaled)
    return q / q.sum(axis=-1, keepdims=True)


def softening_example() -> pd.DataFrame:
    """The paper's worked example (§4) beside what :func:`soften` gives.

    One row per (T, source) with the three probabilities; ``source`` is ``"paper"``
    (the numbers printed in the paper, from :data:`kdoffload.paper.SOFTENING_EXAMPLE`)
    or ``"hinton"`` (this project's :func:`soften`). T = 1 is the input ``p``.
    """
    example = paper.SOFTENING_EXAMPLE
    p = np.asarray(example["p"])
    p = p / p.sum()  # the printed p sums to 1.000203; normalise before softening
    rows = [{"T": 1, "source": "input", "q_device": example["p"][0], "q_edge": example["p"][1],
             "q_cloud": example["p"][2]}]
    for T, printed in example["softened"].items():
        rows.append({"T": T, "source": "paper", "q_device": printed[0], "q_edge": printed[1], "q_cloud": printed[2]})
        q = soften(p, T)
        rows.append({"T": T, "source": "hinton", "q_device": q[0], "q_edge": q[1], "q_cloud": q[2]})
    return pd.DataFrame(rows)


def kd_targets(teacher_probabilities, T: float = paper.TEMPERATURE, hard_labels=None, alpha: float = 0.0) -> np.ndarray:
    """Training targets (n, |A|, 3) float32: ``(1 - alpha) * soften(p, T) + alpha * one_hot(y)``.

    Soft cross-entropy (:func:`kdoffload.train.soft_cross_entropy`) against these targets is
    the knowledge-distillation loss of Hinton, Vinyals, Dean, "Distilling the Knowledge in
    a Neural Network" (2015, arXiv:1503.02531)::

        L(z) = (1 - alpha) * H(q, softmax(z)) + alpha * H(y, softmax(z))

    averaged over samples and subtasks, where ``z`` are the student's logits, ``q`` the
    teacher probabilities ``p`` softened at ``T`` (:func:`soften`) and ``y`` the exact
    labels; cross-entropy is linear in its target, so the mixed target gives the mixed
    loss. ``alpha = 0`` (the paper) uses the soft labels only. Unlike Hinton et al., the
    student is trained at temperature 1 on labels softened beforehand (the paper's
    procedure), so the soft term needs no T² factor.
    """
    T = _check_temperature(T)
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got alpha = {alpha!r}")
    q = soften(teacher_probabilities, T)
    if alpha > 0:
        if hard_labels is None:
            raise ValueError("alpha > 0 needs hard_labels")
        q = (1 - alpha) * q + alpha * one_hot(hard_labels, q.shape[1])
    return q.astype(np.float32)


def distill(teacher: MLPPolicy, data, T: float = paper.TEMPERATURE, alpha: float = 0.0,
            config: TrainConfig = STUDENT_CONFIG, seed: int = 0, name: str = "kd_dil",
            progress: bool | None = None) -> MLPPolicy:
    """A fresh student (``config.hidden``) trained on ``teacher``'s softened labels of ``data``.

    ``data`` is a :class:`kdoffload.LabelledDataset` (or a task-graph
    :class:`kdoffload.graphs.learning.GraphDataset`); its exact labels enter the loss
    only through ``alpha`` and are otherwise used for the validation split (early
    stopping on validation normalised latency, as for every network here). Not cached;
    see :func:`train_student_kd`.
    """
    T = _check_temperature(T)
    if len(data) < 1:
        raise ValueError("the training set is empty")
    req = data.requirements
    targets = kd_targets(teacher.probabilities(req), T, data.labels, alpha)
    model = new_model(req.num_subtasks, config, name, input_width(req))
    model = fit(model, req, targets, data.labels, config, seed, progress, desc=f"{name} T={T:g}")
    model.temperature, model.alpha = T, alpha
    return model


def teacher_fingerprint(teacher: MLPPolicy) -> str:
    """A hash of the teacher's weights, buffers and shape (the cache key of a distilled student)."""
    state = {key: value.detach().cpu().numpy() for key, value in teacher.state_dict().items()}
    return joblib.hash((teacher.num_subtasks, teacher.hidden, teacher.scaler.transform, state))


def _train_student(fingerprint, T, alpha, seed, config, profile, data_seed, version, teacher, progress):
    start = time.perf_counter()
    model = distill(teacher, datasets(profile, data_seed)["narrow"], T, alpha, config, seed, progress=progress)
    model.train_seconds = time.perf_counter() - start
    return model


_cached_student = memory.cache(_train_student, ignore=["teacher", "progress"])


def train_student_kd(teacher: MLPPolicy, T: float = paper.TEMPERATURE, alpha: float = 0.0, seed: int = 0,
                     config: TrainConfig | None = None, profile: str = "paper", data_seed: int = 0,
                     progress: bool | None = None, cache: bool = True) -> MLPPolicy:
    """§5.2 KD-DIL: the student distilled from ``teacher`` on the 1,000 narrow samples of
    ``kd.paper_datasets(data_seed)`` at temperature ``T`` (soft labels only by default).

    ``config`` defaults to :data:`kdoffload.train.STUDENT_CONFIG`, the same as Baseline
    DIL's. Cached on disk, keyed by a hash of the teacher's weights and every other
    argument but ``progress``. The model's ``train_seconds`` includes the teacher's
    labelling of the narrow set.
    """
    T = _check_temperature(T)
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got alpha = {alpha!r}")
    check_profile(profile)
    config = profile_config(STUDENT_CONFIG, profile, "student") if config is None else config
    train = _cached_student if cache else _train_student
    return train(teacher_fingerprint(teacher), T, float(alpha), int(seed), config, profile, int(data_seed),
                 __version__, teacher, progress)
