"""The DQN baseline: action space, rewards, learning on a small problem, determinism, checks."""

from dataclasses import replace

import joblib
import numpy as np
import pytest
import torch

import kdoffload as kd
from kdoffload import drl

SMALL = drl.DQNConfig(hidden=(64, 64), updates=400, env_batch=32, batch_size=128, lr=2e-3,
                      target_update=50, eval_every=100, eps_fraction=0.5, val_fraction=0.2, threads=1)


def tiny_dataset(n, preset="wide", seed=0, num_subtasks=6):
    req = kd.sample(n, preset, num_subtasks=num_subtasks, seed=seed)
    return kd.LabelledDataset(req, kd.solve(req, "dp"), preset, seed, "dp")


@pytest.fixture(scope="module")
def data():
    return tiny_dataset(600, seed=31)


@pytest.fixture(scope="module")
def dqn(data):
    return drl.fit_dqn(data, SMALL, seed=0, progress=False)


def test_one_action_per_whole_decision():
    model = drl.QNetwork(6, hidden=(16,))
    assert model.num_actions == 729
    assert model.actions.shape == (729, 6)
    assert len({tuple(a) for a in model.actions}) == 729
    req = kd.sample(7, seed=1)
    assert model(torch.from_numpy(kd.features(req))).shape == (7, 729)
    decisions = model.decide(req)
    assert decisions.dtype == np.int64 and decisions.shape == (7, 6)
    assert isinstance(model, kd.Policy)
    plain = drl.QNetwork(3, hidden=(8,), dueling=False)
    assert plain.num_actions == 27 and plain.value is None


def test_decide_takes_the_best_scored_action():
    model = drl.QNetwork(6, hidden=(16,))
    req = kd.sample(20, seed=2)
    q = model(torch.from_numpy(kd.features(req))).detach().numpy()
    np.testing.assert_array_equal(model.decide(req), model.actions[q.argmax(axis=1)])


def test_rewards_are_normalised_minus_latency():
    latency = np.array([1.0, 2.0, 4.0])
    reference = np.array([2.0, 2.0, 2.0])
    np.testing.assert_allclose(drl.rewards(latency, reference, "log_greedy"), -np.log([0.5, 1, 2]))
    np.testing.assert_allclose(drl.rewards(latency, reference, "ratio_greedy"), [-0.5, -1, -2])
    np.testing.assert_allclose(drl.rewards(latency, reference, "latency"), -latency)
    with pytest.raises(ValueError, match=r"reward must be one of \['latency', 'log_greedy', 'ratio_greedy'\], got reward = 'energy'"):
        drl.rewards(latency, reference, "energy")


def test_dqn_beats_random_on_a_small_problem(dqn):
    test = kd.sample(400, seed=32)
    optimal = kd.solve(test)
    scored = {policy.name: kd.summarize(test, policy.decide(test), optimal)["normalized_latency"]
              for policy in (dqn, kd.RandomPolicy(seed=0), kd.FixedLocation(2))}
    assert scored["drl"] < scored["random"] and scored["drl"] < scored["cloud"]
    history = dqn.history
    assert history["mean_reward"].iloc[-1] > history["mean_reward"].iloc[0]  # learns while exploring less
    assert history["epsilon"].iloc[-1] == pytest.approx(SMALL.eps_end)
    assert dqn.best_update == int(history["val_latency"].idxmin())
    assert (history["val_normalized_latency"] >= 1 - 1e-9).all()


def test_same_seed_gives_identical_weights(data, dqn):
    again = drl.fit_dqn(data, SMALL, seed=0, progress=False)
    for key, value in dqn.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key


@pytest.mark.parametrize("double", [True, False])
def test_bootstrapped_targets_with_a_target_network(data, double):
    config = replace(SMALL, gamma=0.5, double=double, updates=60, eval_every=30, target_update=20)
    model = drl.fit_dqn(data, config, seed=1, progress=False)
    assert len(model.history) == 2 and np.isfinite(model.history["loss"]).all()


def test_tiny_dataset_and_other_subtask_counts():
    data = tiny_dataset(5, seed=3, num_subtasks=3)
    model = drl.fit_dqn(data, replace(SMALL, updates=5, eval_every=5, env_batch=8), seed=0, progress=False)
    assert model.decide(data.requirements).shape == (5, 3)


@pytest.mark.parametrize("options, message", [
    ({"lr": -1e-3}, "lr must be a finite number > 0, got lr = -0.001"),
    ({"gamma": 1.0}, "gamma must be in"),
    ({"reward": "energy"}, "reward must be one of .*, got reward = 'energy'"),
    ({"updates": 0}, "updates must be an integer >= 1"),
    ({"batch_size": -5}, "batch_size"),
    ({"eps_end": 1.5}, "eps_end"),
    ({"eps_fraction": 0}, "eps_fraction"),
    ({"hidden": (0,)}, "hidden"),
    ({"val_fraction": -0.1}, "val_fraction"),
    ({"buffer_size": 16, "env_batch": 32}, "buffer_size must be >= env_batch"),
])
def test_bad_hyperparameters_raise(options, message):
    with pytest.raises(ValueError, match=message):
        drl.DQNConfig(**options)


def test_bad_arguments_raise(data):
    class Empty:
        def __len__(self):
            return 0

    with pytest.raises(ValueError, match="empty"):
        drl.fit_dqn(Empty(), SMALL)
    with pytest.raises(ValueError, match="config must be a DQNConfig"):
        drl.fit_dqn(data, {"lr": 1e-3})
    with pytest.raises(ValueError, match=r"dataset must be one of \['narrow', 'wide'\], got dataset = 'medium'"):
        drl.train_dqn("medium")
    with pytest.raises(ValueError, match=r"\|A\| = 4"):
        drl.QNetwork(6, hidden=(8,)).decide(kd.sample(3, num_subtasks=4))


def test_train_dqn_caches(monkeypatch, tmp_path):
    small = {"train": tiny_dataset(80, seed=33), "narrow": tiny_dataset(60, "narrow", seed=34)}
    monkeypatch.setattr(drl, "datasets", lambda profile, data_seed: small)
    monkeypatch.setattr(drl, "_cached_dqn", joblib.Memory(tmp_path, verbose=0).cache(drl._train_dqn,
                                                                                     ignore=["progress"]))
    config = replace(SMALL, updates=20, eval_every=10)
    model = drl.train_dqn("narrow", seed=0, config=config, profile="smoke", progress=False)
    assert model.name == "drl_narrow"
    assert drl._cached_dqn.check_call_in_cache("narrow", 0, config, "smoke", 0, kd.__version__, None)
    again = drl.train_dqn("narrow", seed=0, config=config, profile="smoke", progress=False)
    assert torch.equal(again.advantage.weight, model.advantage.weight)
    assert drl.train_dqn("wide", seed=0, config=config, profile="smoke", progress=False).name == "drl_wide"
