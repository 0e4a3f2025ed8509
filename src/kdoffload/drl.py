"""The DRL baseline of §5 (Assumptions, point 8): a deep Q-network over whole decisions.

Formulation
    Each requirement is a one-step episode (a contextual bandit): the state is the
    requirement's 17 features, an action is a whole decision (one of 3^|A| = 729 at
    |A| = 6, in the lexicographic order of :func:`kdoffload.solvers.all_decisions`), and
    the episode ends after it. Deciding scores every action with the network and takes
    the best, which is why the paper finds DRL slow at inference.

Reward
    Minus latency, normalised per requirement because latency is heavy-tailed (a
    bandwidth near 0 makes it arbitrarily large; Assumptions, point 6):

    * ``"log_greedy"`` (default): ``r = -log(latency(s, a) / latency(s, greedy(s)))``,
      0 for the greedy decision, positive for better ones. Greedy is cheap and needs no
      exact solver. For a fixed requirement this is a decreasing function of the
      latency, so the best action is exactly the latency-optimal decision;
    * ``"ratio_greedy"``: ``r = -latency(s, a) / latency(s, greedy(s))``;
    * ``"latency"``: ``r = -latency(s, a)`` in seconds (unnormalised, for comparison).

Learning (after Ref. [7], a double-dueling DQN)
    ε-greedy exploration (ε decays linearly from ``eps_start`` to ``eps_end`` over
    ``eps_fraction`` of training), a replay buffer sampled uniformly, a Huber loss, Adam,
    a dueling head ``Q = V + A - mean(A)``, and a target network copied every
    ``target_update`` updates that, with double-DQN action selection, computes the
    bootstrap term ``gamma * Q_target(s', argmax_a Q(s', a))``.

    With the default ``gamma = 0`` (the one-step reading) the TD target is the reward
    itself, so the target network and the double-DQN selection have nothing to act on;
    they come into play with ``gamma > 0``, which treats the stream of requirements as a
    continuing task (``s'`` = the next requirement). Decisions do not influence the next
    requirement, so every ``gamma`` has the same optimal policy; ``gamma > 0`` only adds
    an action-independent term the network must also learn.

    The DQN never sees the exact labels. A validation split of its training states
    (``val_fraction``) picks the checkpoint with the lowest mean validation latency; the
    history also shows that latency normalised by the exact labels' (same ordering).

Entry point (cached like the other trained models)::

    dqn_wide = kd.train_dqn("wide", seed=0)      # Figure 5: 100,000 wide samples
    dqn_narrow = kd.train_dqn("narrow", seed=0)  # Figure 6: 1,000 narrow samples
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import __version__
from .checks import check_choice, check_count, check_number, check_widths
from .data import LabelledDataset, feature_width, features, memory
from .evaluate import Scorer
from .progress import bar as progress_bar
from .nets import STATS, TRANSFORMS, InputScaler, check_features, hidden_layers
from .solvers import Greedy, all_decisions
from .system import Requirements, cost_tensors, path_cost
from .threads import limited_threads
from .train import NARROW_STATS, check_profile, datasets, profile_config, split_indices

REWARDS = ("log_greedy", "ratio_greedy", "latency")
DATASETS = ("wide", "narrow")


@dataclass(frozen=True)
class DQNConfig:
    """Hyperparameters of the DQN (defaults: the runs of Figures 5 and 6).

    Attributes
    ----------
    hidden : tuple of int
        Hidden layers of the shared trunk.
    dueling : bool
        Dueling head (value + advantage streams) or a plain linear head.
    double : bool
        Double-DQN action selection in the bootstrap term (only matters if gamma > 0).
    transform : {"log", "standard", "none"}
    stats : {"wide", "fit"}
        Input pipeline (:class:`kdoffload.nets.InputScaler`).
    reward : {"log_greedy", "ratio_greedy", "latency"}
        See the module docstring.
    gamma : float
        Discount in [0, 1); 0 is the one-step (contextual bandit) episode.
    lr : float
        Adam learning rate (> 0).
    batch_size : int
        Replay minibatch per update.
    updates : int
        Gradient updates.
    env_batch : int
        Requirements acted on (transitions added to the buffer) per update.
    buffer_size : int
        Replay capacity in transitions.
    eps_start, eps_end, eps_fraction : float
        ε decays linearly from ``eps_start`` to ``eps_end`` over the first
        ``eps_fraction`` of the updates.
    target_update : int
        Updates between copies of the online network into the target network.
    val_fraction : float
        Share of the training requirements held out to pick the checkpoint.
    eval_every : int
        Updates between validation checks (and history rows).
    threads : int
        ``torch.set_num_threads`` during training (1: see
        :class:`kdoffload.train.TrainConfig` for why).
    """

    hidden: tuple[int, ...] = (256, 256)
    dueling: bool = True
    double: bool = True
    transform: str = "log"
    stats: str = "wide"
    reward: str = "log_greedy"
    gamma: float = 0.0
    lr: float = 1e-3
    batch_size: int = 256
    updates: int = 5000
    env_batch: int = 32
    buffer_size: int = 100_000
    eps_start: float = 1.0
    eps_end: float = 0.05
    eps_fraction: float = 0.5
    target_update: int = 250
    val_fraction: float = 0.1
    eval_every: int = 250
    threads: int = 1

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        check_widths("hidden", self.hidden)
        for name, choices in (("transform", TRANSFORMS), ("stats", STATS), ("reward", REWARDS)):
            check_choice(name, getattr(self, name), choices)
        check_number("lr", self.lr, low=0, closed="neither")
        for name in ("batch_size", "updates", "env_batch", "buffer_size", "target_update", "eval_every", "threads"):
            check_count(name, getattr(self, name))
        if self.buffer_size < self.env_batch:
            raise ValueError(f"buffer_size must be >= env_batch = {self.env_batch}, got buffer_size = {self.buffer_size}")
        check_number("eps_start", self.eps_start, 0, 1)
        check_number("eps_end", self.eps_end, 0, 1)
        check_number("eps_fraction", self.eps_fraction, 0, 1, closed="right")
        check_number("gamma", self.gamma, 0, 1, closed="left")
        check_number("val_fraction", self.val_fraction, 0, 1, closed="left")


#: Defaults of the Figure 5 (wide) and Figure 6 (narrow) runs.
DQN_CONFIG = DQNConfig()


def narrow_config(profile: str = "paper", stats: str = NARROW_STATS) -> DQNConfig:
    """The narrow (§5.2, Figure 6) DQN's configuration under ``profile``: :data:`DQN_CONFIG`
    with the profile's ``dqn`` overrides, then its ``dqn_narrow`` overrides (the paper
    profile's learning rate, chosen on the development set by
    ``benchmarks/choose_learning_rates.py dqn_narrow``), and input statistics ``stats``
    (default: fitted on its own training data, :data:`kdoffload.train.NARROW_STATS`)."""
    config = replace(profile_config(DQN_CONFIG, profile, "dqn"), stats=stats)
    return profile_config(config, profile, "dqn_narrow")



class QNetwork(nn.Module):
    """Q-values of all 3^|A| decisions for the raw features of a requirement.

    Implements :class:`kdoffload.policy.Policy`: ``decide`` scores every action and
    returns the decision with the highest Q-value.
    """

    def __init__(self, num_subtasks: int = 6, hidden=(256, 256), dueling: bool = True, transform: str = "log",
                 name: str = "drl", stats: str = "wide"):
        super().__init__()
        self.num_subtasks = int(num_subtasks)
        self.hidden = tuple(int(h) for h in hidden)
        self.dueling = bool(dueling)
        self.name = name
        self.input_width = feature_width(self.num_subtasks)
        self.actions = all_decisions(self.num_subtasks)
        self.scaler = InputScaler(self.input_width, transform, stats)
        layers, width = hidden_layers(self.input_width, self.hidden)
        self.trunk = nn.Sequential(*layers)
        self.advantage = nn.Linear(width, len(self.actions))
        self.value = nn.Linear(width, 1) if self.dueling else None

    @property
    def num_actions(self) -> int:
        return len(self.actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Q-values (n, 3^|A|) for raw features ``x`` (n, 2|A| + 5)."""
        h = self.trunk(self.scaler(x))
        a = self.advantage(h)
        if self.value is None:
            return a
        return self.value(h) + a - a.mean(dim=1, keepdim=True)

    @torch.no_grad()
    def decide(self, req: Requirements) -> np.ndarray:
        """Locations (n, |A|) int64: the action with the highest Q-value for each requirement."""
        if req.num_subtasks != self.num_subtasks:
            raise ValueError(f"this network decides |A| = {self.num_subtasks} subtasks, "
                             f"got requirements with |A| = {req.num_subtasks}")
        was_training = self.training
        self.eval()
        try:
            best = self(torch.from_numpy(features(req))).argmax(dim=1).numpy()
        finally:
            self.train(was_training)
        return self.actions[best].astype(np.int64)


def rewards(latencies: np.ndarray, reference: np.ndarray, kind: str = "log_greedy") -> np.ndarray:
    """Rewards for ``latencies`` (seconds) given each requirement's ``reference`` (greedy) latency."""
    if kind == "log_greedy":
        return -np.log(np.maximum(latencies, 1e-12) / np.maximum(reference, 1e-12))
    if kind == "ratio_greedy":
        return -latencies / np.maximum(reference, 1e-12)
    if kind == "latency":
        return -latencies
    raise ValueError(f"reward must be one of {sorted(REWARDS)}, got reward = {kind!r}")


class _Environment:
    """Latency of any decision for the training requirements, from precomputed cost tensors."""

    def __init__(self, req: Requirements, reward: str):
        self.computation, self.transfer = cost_tensors(req)
        self.reference = path_cost(self.computation, self.transfer, Greedy().decide(req))
        self.reward = reward

    def latency(self, index: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        return path_cost(self.computation[index], self.transfer[index], decisions)

    def step(self, index: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        return rewards(self.latency(index, decisions), self.reference[index], self.reward)


def fit_dqn(data: LabelledDataset, config: DQNConfig = DQN_CONFIG, seed: int = 0, name: str = "drl",
            progress: bool | None = None) -> QNetwork:
    """Train a :class:`QNetwork` on the requirements of ``data`` (not cached; see :func:`train_dqn`).

    ``data.labels`` are used only to express the validation latency as a normalised
    latency in the history; checkpoint selection uses the mean validation latency,
    which orders checkpoints identically. ``model.history`` (a DataFrame indexed by
    update) holds ``epsilon``, ``loss``, ``mean_reward`` (of the transitions collected
    since the last row), ``val_latency``, ``val_normalized_latency`` and ``seconds``.
    """
    if not isinstance(config, DQNConfig):
        raise ValueError(f"config must be a DQNConfig, got {type(config).__name__}")
    if len(data) < 1:
        raise ValueError("the training set is empty")
    req = data.requirements
    x_all = check_features(features(req), feature_width(req.num_subtasks))
    train_idx, val_idx = split_indices(len(x_all), config.val_fraction, seed)
    train_req = req.take(train_idx)
    env = _Environment(train_req, config.reward)
    x = torch.from_numpy(x_all[train_idx])
    n = len(train_idx)
    if len(val_idx):
        val_req = req.take(val_idx)
        val_x = torch.from_numpy(x_all[val_idx])
        val_scorer = Scorer(val_req, np.asarray(data.labels)[val_idx])
    rng = np.random.default_rng([seed, 104729])

    capacity = min(config.buffer_size, config.updates * config.env_batch)
    buffer_state = np.zeros(capacity, dtype=np.int64)
    buffer_next = np.zeros(capacity, dtype=np.int64)
    buffer_action = np.zeros(capacity, dtype=np.int64)
    buffer_reward = np.zeros(capacity, dtype=np.float32)
    size = position = 0

    rows = []
    start = time.perf_counter()
    with limited_threads(config.threads, blas=False), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = QNetwork(req.num_subtasks, config.hidden, config.dueling, config.transform, name, config.stats)
        model.scaler.fit(x.numpy())
        target = copy.deepcopy(model)
        target.requires_grad_(False)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        actions = model.actions
        order, cursor = rng.permutation(n), 0
        best, best_state, best_update = np.inf, None, 0
        losses, collected = [], []
        bar = progress_bar(progress=progress, total=config.updates, desc=name, unit="update")
        for update in range(1, config.updates + 1):
            # act: ε-greedy on a batch of requirements from the (reshuffled) stream
            epsilon = config.eps_start + (config.eps_end - config.eps_start) * min(
                1.0, (update - 1) / max(1.0, config.eps_fraction * config.updates))
            while cursor + config.env_batch + 1 > len(order):  # continue the stream with a new pass
                order, cursor = np.concatenate([order[cursor:], rng.permutation(n)]), 0
            states = order[cursor:cursor + config.env_batch]
            following = order[cursor + 1:cursor + config.env_batch + 1]
            cursor += config.env_batch
            with torch.no_grad():
                model.eval()
                greedy_actions = model(x[states]).argmax(dim=1).numpy()
                model.train()
            explore = rng.random(config.env_batch) < epsilon
            chosen = np.where(explore, rng.integers(0, len(actions), config.env_batch), greedy_actions)
            reward = env.step(states, actions[chosen])
            collected.append(reward.mean())
            slots = (position + np.arange(config.env_batch)) % capacity
            buffer_state[slots], buffer_next[slots] = states, following
            buffer_action[slots], buffer_reward[slots] = chosen, reward
            position = (position + config.env_batch) % capacity
            size = min(size + config.env_batch, capacity)

            # learn: one minibatch from the replay buffer
            sample = rng.integers(0, size, min(config.batch_size, size))
            q = model(x[buffer_state[sample]]).gather(1, torch.from_numpy(buffer_action[sample])[:, None])[:, 0]
            td_target = torch.from_numpy(buffer_reward[sample])
            if config.gamma > 0:
                with torch.no_grad():
                    next_x = x[buffer_next[sample]]
                    next_q = target(next_x)
                    if config.double:
                        next_value = next_q.gather(1, model(next_x).argmax(dim=1, keepdim=True))[:, 0]
                    else:
                        next_value = next_q.max(dim=1).values
                    td_target = td_target + config.gamma * next_value
            loss = nn.functional.smooth_l1_loss(q, td_target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if update % config.target_update == 0:
                target.load_state_dict(model.state_dict())

            if update % config.eval_every == 0 or update == config.updates:
                row = {"update": update, "epsilon": epsilon, "loss": float(np.mean(losses)),
                       "mean_reward": float(np.mean(collected))}
                losses, collected = [], []
                if len(val_idx):
                    with torch.no_grad():
                        model.eval()
                        decisions = actions[model(val_x).argmax(dim=1).numpy()]
                        model.train()
                    row["val_latency"] = float(val_scorer.latencies(decisions).mean())
                    row["val_normalized_latency"] = row["val_latency"] / val_scorer.optimal_mean
                    score = row["val_latency"]
                else:
                    score = -update
                row["seconds"] = time.perf_counter() - start
                rows.append(row)
                if score < best:
                    best, best_update = score, update
                    best_state = copy.deepcopy(model.state_dict())
                bar.set_postfix(eps=f"{epsilon:.2f}", val=f"{row.get('val_normalized_latency', np.nan):.4f}")
            bar.update(1)
        bar.close()
        model.load_state_dict(best_state)
    model.eval()
    model.history = pd.DataFrame(rows).set_index("update")
    model.best_update = best_update
    model.train_seconds = time.perf_counter() - start
    model.config = config
    return model


def _train_dqn(dataset, seed, config, profile, data_seed, version, progress):
    data = datasets(profile, data_seed)["train" if dataset == "wide" else "narrow"]
    return fit_dqn(data, config, seed, f"drl_{dataset}", progress)


_cached_dqn = memory.cache(_train_dqn, ignore=["progress"])


def train_dqn(dataset: str = "wide", seed: int = 0, config: DQNConfig | None = None, profile: str = "paper",
              data_seed: int = 0, progress: bool | None = None, cache: bool = True) -> QNetwork:
    """The DRL baseline trained on the wide training set (``"wide"``, Figure 5) or on the
    1,000 narrow samples (``"narrow"``, Figure 6) of ``kd.paper_datasets(data_seed)``.

    ``config`` defaults to :data:`DQN_CONFIG` with the overrides of ``profile``
    (the ``training`` section of its YAML file, :mod:`kdoffload.settings`), and for
    ``"narrow"`` to :func:`narrow_config` (its own learning rate; input statistics fitted
    on its own training data).
    Cached on disk, keyed by every argument but ``progress``. The model is named
    ``"drl_wide"`` or ``"drl_narrow"``.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got dataset = {dataset!r}")
    check_profile(profile)
    if config is None:
        config = narrow_config(profile) if dataset == "narrow" else profile_config(DQN_CONFIG, profile, "dqn")
    train = _cached_dqn if cache else _train_dqn
    return train(dataset, int(seed), config, profile, int(data_seed), __version__, progress)
