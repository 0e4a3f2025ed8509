"""Supervised training: learning on tiny data, determinism, history, config checks, cache."""

import re
from dataclasses import replace

import joblib
import numpy as np
import pytest
import torch

import kdoffload as kd
from kdoffload import train as tr

TINY = tr.TrainConfig(hidden=(32, 32), lr=1e-2, batch_size=64, epochs=15, patience=None, val_fraction=0.2)


def tiny_dataset(n=400, preset="wide", seed=11, num_subtasks=6):
    req = kd.sample(n, preset, num_subtasks=num_subtasks, seed=seed)
    return kd.LabelledDataset(req, kd.solve(req, "dp"), preset, seed, "dp")


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()


@pytest.fixture(scope="module")
def trained(data):
    return tr.train_supervised(data, TINY, seed=0, progress=False)


def test_training_lowers_the_loss_and_beats_chance(data, trained):
    history = trained.history
    assert history["train_loss"].iloc[-1] < 0.7 * history["train_loss"].iloc[0]
    assert history["train_loss"].iloc[0] < np.log(3) + 0.2  # starts near chance
    test = kd.sample(300, seed=12)
    optimal = kd.solve(test)
    summary = kd.summarize(test, trained.decide(test), optimal)
    chance = kd.summarize(test, kd.RandomPolicy(seed=0).decide(test), optimal)
    assert summary["subtask_accuracy"] > 0.5  # chance is 1/3
    assert summary["normalized_latency"] < chance["normalized_latency"]
    assert summary["normalized_latency"] < kd.summarize(test, kd.FixedLocation(2).decide(test), optimal)[
        "normalized_latency"]


def test_history_columns_and_best_epoch(trained):
    history = trained.history
    assert list(history.index) == list(range(1, TINY.epochs + 1))
    for column in ("train_loss", "val_loss", "val_accuracy", "val_subtask_accuracy",
                   "val_normalized_latency", "lr", "seconds"):
        assert column in history
    assert history["val_normalized_latency"].min() >= 1.0 - 1e-9  # exact labels are optimal
    assert trained.best_epoch == int(history["val_normalized_latency"].idxmin())
    assert trained.config == TINY and trained.train_seconds > 0


def test_same_seed_gives_bitwise_identical_weights(data, trained):
    again = tr.train_supervised(data, TINY, seed=0, progress=False)
    for key, value in trained.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key
    other = tr.train_supervised(data, replace(TINY, epochs=2), seed=1, progress=False)
    assert not torch.equal(other.body[0].weight, trained.body[0].weight)


def test_threads_are_restored_and_global_rng_untouched(data):
    before_threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tr.train_supervised(data, replace(TINY, epochs=1, threads=1), seed=0, progress=False)
    assert torch.get_num_threads() == before_threads
    assert torch.equal(torch.rand(3), expected)


def test_early_stopping_stops_after_patience(data):
    model = tr.train_supervised(data, replace(TINY, epochs=50, patience=2, lr=1e-3), seed=0, progress=False)
    history = model.history
    assert len(history) <= 50
    if len(history) < 50:
        assert len(history) - model.best_epoch == 2


def test_no_validation_keeps_the_last_epoch(data):
    model = tr.train_supervised(data, replace(TINY, epochs=3, val_fraction=0.0), seed=0, progress=False)
    assert model.best_epoch == 3 and "val_loss" not in model.history


@pytest.mark.parametrize("options, message", [
    ({"lr": -1e-3}, "lr must be a finite number > 0, got lr = -0.001"),
    ({"lr": 0.0}, "lr must be"),
    ({"lr": float("nan")}, "lr must be"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1, got batch_size = 0"),
    ({"epochs": 2.5}, "epochs must be"),
    ({"val_fraction": 1.0}, "val_fraction must be in [0, 1), got val_fraction = 1.0"),
    ({"weight_decay": -1.0}, "weight_decay must be a finite number >= 0, got weight_decay = -1.0"),
    ({"patience": 0}, "patience must be an integer >= 1, got patience = 0"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of ['adam', 'adamw', 'sgd'], got optimizer = 'lbfgs'"),
    ({"schedule": "step"}, "schedule must be one of"),
    ({"transform": "sqrt"}, "transform must be one of"),
    ({"hidden": ()}, "hidden must be a non-empty sequence of integers >= 1, got hidden = ()"),
    ({"threads": 0}, "threads"),
])
def test_bad_hyperparameters_raise(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        tr.TrainConfig(**options)


def test_empty_dataset_and_wrong_feature_width_raise(data):
    class Empty:
        def __len__(self):
            return 0

    with pytest.raises(ValueError, match="the training set is empty"):
        tr.train_supervised(Empty(), TINY)
    with pytest.raises(ValueError, match="at least one"):
        kd.Requirements(E=np.zeros((0, 6)), D=np.zeros((0, 7)), p1=np.zeros(0), p2=np.zeros(0),
                        b1=np.zeros(0), b2=np.zeros(0))
    model = kd.nets.student()
    other = tiny_dataset(20, num_subtasks=4)
    with pytest.raises(ValueError, match=r"shape \(n, 17\), got shape \(20, 13\)"):
        tr.fit(model, other.requirements, tr.one_hot(other.labels), other.labels, TINY)
    with pytest.raises(ValueError, match="targets must have shape"):
        tr.fit(model, data.requirements, tr.one_hot(data.labels)[:10], data.labels, TINY)
    with pytest.raises(ValueError, match="probability distributions"):
        tr.fit(model, data.requirements, 2 * tr.one_hot(data.labels), data.labels, TINY)
    with pytest.raises(ValueError, match="config must be a TrainConfig"):
        tr.fit(model, data.requirements, tr.one_hot(data.labels), data.labels, {"lr": 1e-3})
    with pytest.raises(ValueError, match="unknown profile"):
        tr.train_teacher(profile="huge")


def test_soft_cross_entropy_equals_cross_entropy_on_one_hot():
    logits = torch.randn(5, 6, 3, generator=torch.Generator().manual_seed(0))
    labels = np.random.default_rng(0).integers(0, 3, (5, 6))
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), torch.from_numpy(labels).reshape(-1))
    assert torch.allclose(tr.soft_cross_entropy(logits, torch.from_numpy(tr.one_hot(labels))), expected)


def test_progress_bar_respects_environment(data, monkeypatch, capsys):
    monkeypatch.setenv("KDOFFLOAD_PROGRESS", "0")
    tr.train_supervised(data, replace(TINY, epochs=1), seed=0)
    assert "epoch" not in capsys.readouterr().err
    tr.train_supervised(data, replace(TINY, epochs=1), seed=0, progress=True)
    assert "epoch" in capsys.readouterr().err


def test_entry_points_use_profiles_and_the_cache(data, monkeypatch, tmp_path):
    small = {"train": data, "test": data, "narrow": tiny_dataset(120, "narrow", seed=5)}
    monkeypatch.setattr(tr, "datasets", lambda profile, data_seed: small)
    memory = joblib.Memory(tmp_path, verbose=0)
    monkeypatch.setattr(tr, "_cached_teacher", memory.cache(tr._train_teacher, ignore=["progress"]))
    monkeypatch.setattr(tr, "_cached_baseline", memory.cache(tr._train_baseline, ignore=["progress"]))
    teacher = tr.train_teacher(seed=0, profile="smoke", progress=False)
    assert teacher.name == "dil" and teacher.hidden == kd.nets.TEACHER_HIDDEN
    assert teacher.config == replace(tr.TEACHER_CONFIG, epochs=8, batch_size=128, patience=8)  # smoke.yaml
    again = tr.train_teacher(seed=0, profile="smoke", progress=False)  # from the cache
    assert torch.equal(again.body[0].weight, teacher.body[0].weight)
    assert tr._cached_teacher.check_call_in_cache(0, teacher.config, "smoke", 0, kd.__version__, None)
    baseline = tr.train_baseline_dil(seed=1, profile="smoke", progress=False)
    assert baseline.name == "baseline_dil" and baseline.hidden == kd.nets.STUDENT_HIDDEN
    np.testing.assert_array_equal(
        baseline.decide(data.requirements),
        tr.train_baseline_dil(seed=1, profile="smoke", progress=False, cache=False).decide(data.requirements))


def test_narrow_models_do_not_know_the_wide_moments():
    """§5.2: Baseline DIL standardises with moments of its own narrow training features.
    Feature 0 is E_0 / 2e9. Narrow E_0 is uniform on [5e8, 1.5e9], so u = E_0 / 2e9 is uniform on
    [0.25, 0.75] and log u has standard deviation about 0.31; under the wide range u is
    uniform on [0, 1] and log u has standard deviation exactly 1."""
    from kdoffload.nets import InputScaler

    model = kd.train_baseline_dil(seed=0, profile="smoke", cache=False, progress=False)
    assert model.scaler.std.numpy()[0] == pytest.approx(0.31, abs=0.04)
    assert InputScaler(model.input_width).std.numpy()[0] == pytest.approx(1.0, abs=1e-3)
