"""Supervised training of the MLP policies on exact labels (§3.3), and the cached entry points.

The paper states none of the training details (the book's Assumptions page, point 13);
this module's choices are the fields of :class:`TrainConfig`: AdamW with a one-cycle
learning-rate schedule over mini-batches (:data:`TEACHER_CONFIG` for the §5.1 teacher,
:data:`STUDENT_CONFIG` for both §5.2 students); the input pipeline of
:class:`kdoffload.nets.InputScaler` (the §5.2 models standardise with moments fitted on
their own narrow split, :data:`NARROW_STATS`); soft cross-entropy of each subtask's 3-way
softmax against its target distribution; and a validation split whose normalised latency
(:class:`kdoffload.evaluate.Scorer`) keeps the best epoch and stops training after
``patience`` epochs without improvement. The settings were chosen on validation splits
and a separate wide development set (:func:`development_set`), never on the test set;
the measurements behind them are in ``benchmarks/NOTES.md``.

Determinism: initialisation, the validation split and the batch order come from ``seed``,
and training runs on ``config.threads`` torch threads (:mod:`kdoffload.threads`); the same
seed and thread count give bitwise-identical weights on CPU.

Entry points, cached on disk with :data:`kdoffload.data.memory` (a chapter gets the model
an earlier chapter trained when the arguments match); ``profile`` names the ``training``
section of a profile file (:mod:`kdoffload.settings`)::

    teacher = kd.train_teacher(seed=0)               # §5.1 DIL, 100,000 wide samples
    baseline = kd.train_baseline_dil(seed=0)         # §5.2 student on 1,000 narrow hard labels
    teacher.history                                  # per-epoch loss / accuracy / latency
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import torch

from . import __version__, settings
from .checks import check_choice, check_count, check_number, check_widths
from .data import LabelledDataset, features, memory, paper_datasets
from .progress import bar as progress_bar
from .nets import STATS, STUDENT_HIDDEN, TEACHER_HIDDEN, TRANSFORMS, MLPPolicy, check_features
from .evaluate import Scorer
from .system import NUM_LOCATIONS, Requirements
from .threads import limited_threads

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("onecycle", "cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of supervised training (defaults: the §5.1 teacher).

    Attributes
    ----------
    hidden : tuple of int
        Hidden layer widths of the network.
    transform : {"log", "standard", "none"}
    stats : {"wide", "fit"}
        Input pipeline of the network (:class:`kdoffload.nets.InputScaler`): transform,
        then standardisation by the exact moments under the wide preset or by those of
        the training split.
    optimizer : {"adamw", "adam", "sgd"}
        SGD uses Nesterov momentum 0.9.
    lr : float
        Peak learning rate (> 0).
    weight_decay : float
        Decoupled weight decay of AdamW, L2 for the others (>= 0).
    batch_size : int
    epochs : int
        Maximum number of passes over the training split.
    schedule : {"onecycle", "cosine", "constant"}
        Learning-rate schedule over ``epochs`` (per batch).
    val_fraction : float
        Share of the training set held out for validation, in [0, 1); 0 disables
        validation (then the last epoch is kept).
    patience : int or None
        Stop after this many epochs without a better validation normalised latency
        (None: run all epochs, still keeping the best).
    threads : int
        torch threads during training (1: robust on a shared machine; measurements in
        ``benchmarks/NOTES.md``). Only the same thread count is promised to reproduce
        the weights.
    """

    hidden: tuple[int, ...] = TEACHER_HIDDEN
    transform: str = "log"
    stats: str = "wide"
    optimizer: str = "adamw"
    lr: float = 5e-3
    weight_decay: float = 1e-4
    batch_size: int = 1024
    epochs: int = 30
    schedule: str = "onecycle"
    val_fraction: float = 0.1
    patience: int | None = 8
    threads: int = 1

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        check_widths("hidden", self.hidden)
        for name, choices in (("transform", TRANSFORMS), ("stats", STATS), ("optimizer", OPTIMIZERS),
                              ("schedule", SCHEDULES)):
            check_choice(name, getattr(self, name), choices)
        check_number("lr", self.lr, low=0, closed="neither")
        check_number("weight_decay", self.weight_decay, low=0)
        for name in ("batch_size", "epochs", "threads"):
            check_count(name, getattr(self, name))
        check_number("val_fraction", self.val_fraction, 0, 1, closed="left")
        if self.patience is not None:
            check_count("patience", self.patience)


#: Input statistics of the §5.2 models: fitted on their own narrow training data, never the
#: moments of the wide ranges they are not supposed to know.
NARROW_STATS = "fit"

#: Defaults for the §5.1 teacher and for the §5.2 students (Baseline DIL and KD-DIL).
TEACHER_CONFIG = TrainConfig()
STUDENT_CONFIG = TrainConfig(hidden=STUDENT_HIDDEN, lr=1e-2, batch_size=32, epochs=200, patience=40,
                             weight_decay=1e-4, stats=NARROW_STATS)

#: Seed of the wide development set on which settings are chosen (never the test set).
DEVELOPMENT_SEED = 2024


def development_set(profile: str = "paper") -> LabelledDataset:
    """A wide labelled set, the size of the profile's test set, drawn with
    :data:`DEVELOPMENT_SEED`: where settings are chosen and benchmarks score, so that no
    setting is chosen on the test set."""
    sizes = check_profile(profile)["sizes"]
    from .data import labelled_dataset

    return labelled_dataset(sizes["test_size"], "wide", seed=DEVELOPMENT_SEED)


def check_profile(profile: str) -> dict:
    """The ``training`` section of the shipped profile ``profile`` (:func:`kdoffload.settings.training`):
    the dataset ``sizes`` and the ``teacher``, ``student``, ``dqn`` and ``dqn_narrow`` overrides."""
    return settings.training(profile)


def datasets(profile: str = "paper", data_seed: int = 0) -> dict[str, LabelledDataset]:
    """``kd.paper_datasets(data_seed)`` at the sizes of ``profile`` (train, test, narrow)."""
    return paper_datasets(data_seed, **check_profile(profile)["sizes"])


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over samples and subtasks of ``-sum_c targets_c * log softmax(logits)_c``.

    ``logits`` and ``targets`` are (n, |A|, 3); each target row is a probability
    distribution (one-hot for exact labels). With one-hot targets this is the usual
    cross-entropy.
    """
    return -(targets * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def one_hot(labels, num_subtasks: int | None = None) -> np.ndarray:
    """Exact labels (n, |A|) in {0, 1, 2} as one-hot targets (n, |A|, 3) float32."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or (num_subtasks is not None and labels.shape[1] != num_subtasks):
        raise ValueError(f"labels must have shape (n, |A|), got shape {labels.shape}")
    if not np.isin(labels, (0, 1, 2)).all():
        raise ValueError("labels must be locations in {0, 1, 2}")
    return np.eye(NUM_LOCATIONS, dtype=np.float32)[labels.astype(np.int64)]


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random (train, validation) split of ``range(n)``; validation has
    ``round(n * val_fraction)`` samples (at least 1 if the fraction is > 0 and n >= 2)."""
    order = np.random.default_rng([seed, 7919]).permutation(n)
    n_val = int(round(n * val_fraction))
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def batch_features(req) -> np.ndarray:
    """The network inputs of a training batch: :func:`kdoffload.features` of chain
    Requirements, or ``req.features()`` of a learning batch (:class:`kdoffload.graphs.learning.GraphBatch`)."""
    return features(req) if isinstance(req, Requirements) else req.features()


def batch_scorer(req, labels):
    """A :class:`~kdoffload.evaluate.Scorer` of chain Requirements, or ``req.scorer(labels)``
    of a learning batch (same methods: latencies, normalized_latency, accuracy, subtask_accuracy)."""
    return Scorer(req, labels) if isinstance(req, Requirements) else req.scorer(labels)


def _check_batch(req):
    if isinstance(req, Requirements):
        return req
    if all(callable(getattr(req, method, None)) for method in ("features", "take", "scorer")):
        return req
    raise ValueError(f"req must be kdoffload.Requirements or a learning batch with features(), take() and "
                     f"scorer() (kdoffload.graphs.learning.GraphBatch), got {type(req).__name__}")


class _Validator:
    """Normalised latency and accuracy of a network's decisions on a validation set (:class:`Scorer`)."""

    def __init__(self, req, labels: np.ndarray):
        self.x = torch.from_numpy(batch_features(req))
        self.scorer = batch_scorer(req, labels)

    @torch.no_grad()
    def __call__(self, model: MLPPolicy) -> dict[str, float]:
        model.eval()
        decisions = model(self.x).argmax(dim=-1).numpy()
        model.train()
        return {
            "val_accuracy": self.scorer.accuracy(decisions),
            "val_subtask_accuracy": self.scorer.subtask_accuracy(decisions),
            "val_normalized_latency": self.scorer.normalized_latency(decisions),
        }


def _optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                           weight_decay=config.weight_decay)


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def fit(model: MLPPolicy, req: Requirements, targets, labels, config: TrainConfig = TEACHER_CONFIG,
        seed: int = 0, progress: bool | None = None, desc: str = "train") -> MLPPolicy:
    """Train ``model`` in place on ``targets`` and return it, with ``model.history`` set.

    Parameters
    ----------
    model : MLPPolicy
        Its input scaler is fitted on the training split first.
    req : Requirements or GraphBatch
        The training set (n >= 1 requirements), chain Requirements or a learning batch of
        task-graph requests (:class:`kdoffload.graphs.learning.GraphBatch`: ``features()``,
        ``take(index)``, ``scorer(labels)``).
    targets : array (n, |A|, 3)
        Target distribution per subtask: :func:`one_hot` exact labels, or (softened)
        teacher probabilities, or a mix (see :func:`kdoffload.distill.kd_targets`).
    labels : array (n, |A|)
        Exact labels of ``req``; only the validation split's are used (for the validation
        accuracy and normalised latency that drive early stopping).
    config : TrainConfig
    seed : int
        Seeds the initialisation, the validation split and the batch order.
    progress : bool or None
        One bar ticking once per epoch (None: see :mod:`kdoffload.progress`).

    The history (pandas DataFrame indexed by epoch) holds ``train_loss``, ``val_loss``,
    ``val_accuracy``, ``val_subtask_accuracy``, ``val_normalized_latency``, ``lr`` and
    ``seconds``; ``model.best_epoch`` is the epoch whose weights were kept.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    req = _check_batch(req)
    x_all = check_features(batch_features(req), model.input_width)
    n = len(x_all)
    targets = np.asarray(targets, dtype=np.float32)
    if targets.shape != (n, model.num_subtasks, NUM_LOCATIONS):
        raise ValueError(f"targets must have shape (n, |A|, 3) = {(n, model.num_subtasks, NUM_LOCATIONS)}, "
                         f"got {targets.shape}")
    if not np.isfinite(targets).all() or (targets < 0).any() or not np.allclose(targets.sum(-1), 1, atol=1e-4):
        raise ValueError("targets must be probability distributions over the 3 locations (non-negative, "
                         "summing to 1 for every subtask)")
    labels = np.asarray(labels)
    if labels.shape != (n, model.num_subtasks):
        raise ValueError(f"labels must have shape (n, |A|) = {(n, model.num_subtasks)}, got {labels.shape}")

    train_idx, val_idx = split_indices(n, config.val_fraction, seed)
    validator = _Validator(req.take(val_idx), labels[val_idx]) if len(val_idx) else None
    x = torch.from_numpy(x_all[train_idx])
    y = torch.from_numpy(targets[train_idx])
    x_val = torch.from_numpy(x_all[val_idx])
    y_val = torch.from_numpy(targets[val_idx])
    steps_per_epoch = -(-len(train_idx) // config.batch_size)

    rows = []
    start = time.perf_counter()
    with limited_threads(config.threads, blas=False), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.scaler.fit(x.numpy())
        for module in model.body:
            if isinstance(module, torch.nn.Linear):
                module.reset_parameters()
        generator = torch.Generator().manual_seed(seed)
        optimizer = _optimizer(model, config)
        scheduler = _scheduler(optimizer, config, config.epochs * steps_per_epoch)
        best, best_state, best_epoch, since_best = np.inf, None, 0, 0
        model.train()
        bar = progress_bar(range(1, config.epochs + 1), progress=progress, desc=desc, unit="epoch")
        for epoch in bar:
            order = torch.randperm(len(x), generator=generator)
            total = 0.0
            for i in range(steps_per_epoch):
                batch = order[i * config.batch_size:(i + 1) * config.batch_size]
                loss = soft_cross_entropy(model(x[batch]), y[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                total += loss.item() * len(batch)
            row = {"epoch": epoch, "train_loss": total / len(x), "lr": optimizer.param_groups[0]["lr"]}
            if validator is not None:
                with torch.no_grad():
                    model.eval()
                    row["val_loss"] = float(soft_cross_entropy(model(x_val), y_val))
                    model.train()
                row.update(validator(model))
                score = row["val_normalized_latency"]
            else:
                score = -epoch  # no validation: keep the last epoch
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            if score < best:
                best, best_epoch, since_best = score, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                since_best += 1
            bar.set_postfix(loss=f"{row['train_loss']:.4f}",
                            val=f"{row.get('val_normalized_latency', float('nan')):.4f}")
            if config.patience is not None and since_best >= config.patience:
                break
        bar.close()
        model.load_state_dict(best_state)
    model.eval()
    model.history = pd.DataFrame(rows).set_index("epoch")
    model.best_epoch = best_epoch
    model.train_seconds = time.perf_counter() - start
    model.config = config
    return model


def new_model(num_subtasks: int, config: TrainConfig, name: str, input_width: int | None = None) -> MLPPolicy:
    """An untrained network of ``config.hidden`` (built without touching torch's global RNG;
    :func:`fit` re-initialises it from its seed). ``input_width`` defaults to the chain's 2|A| + 5."""
    with torch.random.fork_rng(devices=[]):
        return MLPPolicy(num_subtasks, config.hidden, config.transform, name, config.stats, input_width)


def input_width(req) -> int | None:
    """The feature width of a learning batch (None for chain Requirements: 2|A| + 5)."""
    return None if isinstance(req, Requirements) else int(req.width)


def train_supervised(data: LabelledDataset, config: TrainConfig = TEACHER_CONFIG, seed: int = 0,
                     name: str = "dil", progress: bool | None = None) -> MLPPolicy:
    """A fresh network of ``config.hidden`` trained on the exact labels of ``data`` (no cache):
    a :class:`kdoffload.LabelledDataset` or a :class:`kdoffload.graphs.learning.GraphDataset`."""
    if len(data) < 1:
        raise ValueError("the training set is empty")
    model = new_model(data.requirements.num_subtasks, config, name, input_width(data.requirements))
    return fit(model, data.requirements, one_hot(data.labels), data.labels, config, seed, progress, desc=name)


def _train_teacher(seed, config, profile, data_seed, version, progress):
    return train_supervised(datasets(profile, data_seed)["train"], config, seed, "dil", progress)


def _train_baseline(seed, config, profile, data_seed, version, progress):
    return train_supervised(datasets(profile, data_seed)["narrow"], config, seed, "baseline_dil", progress)


_cached_teacher = memory.cache(_train_teacher, ignore=["progress"])
_cached_baseline = memory.cache(_train_baseline, ignore=["progress"])


def profile_config(base, profile: str, piece: str):
    """``base`` (a :class:`TrainConfig` or a :class:`~kdoffload.drl.DQNConfig`) with the
    overrides of ``profile`` for ``piece`` ("teacher", "student", "dqn" or "dqn_narrow")."""
    return replace(base, **check_profile(profile)[piece])


def train_teacher(seed: int = 0, config: TrainConfig | None = None, profile: str = "paper", data_seed: int = 0,
                  progress: bool | None = None, cache: bool = True) -> MLPPolicy:
    """The §5.1 DIL network (5 x 256) trained on the wide training set of ``kd.paper_datasets(data_seed)``.

    ``config`` defaults to :data:`TEACHER_CONFIG` (with the overrides of ``profile``);
    the result is cached on disk, keyed by every argument but ``progress``.
    """
    config = profile_config(TEACHER_CONFIG, profile, "teacher") if config is None else config
    check_profile(profile)
    train = _cached_teacher if cache else _train_teacher
    return train(int(seed), config, profile, int(data_seed), __version__, progress)


def train_baseline_dil(seed: int = 0, config: TrainConfig | None = None, profile: str = "paper",
                       data_seed: int = 0, progress: bool | None = None, cache: bool = True) -> MLPPolicy:
    """§5.2 Baseline DIL: the student network (2 x 32) on the exact (hard) labels of the
    1,000 narrow samples of ``kd.paper_datasets(data_seed)``. ``config`` defaults to
    :data:`STUDENT_CONFIG`; cached like :func:`train_teacher`."""
    config = profile_config(STUDENT_CONFIG, profile, "student") if config is None else config
    check_profile(profile)
    train = _cached_baseline if cache else _train_baseline
    return train(int(seed), config, profile, int(data_seed), __version__, progress)


def config_dict(config) -> dict:
    """A training configuration (:class:`TrainConfig` or :class:`kdoffload.drl.DQNConfig`) as a
    plain dict, for the results file and :func:`kdoffload.experiments.config_table`."""
    return asdict(config)
