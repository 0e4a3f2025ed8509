"""MLP policies: shapes, parameter counts, the policy interface, input checks, pickling."""

import pickle

import numpy as np
import pytest
import torch

import kdoffload as kd
from kdoffload import nets, paper


@pytest.fixture(scope="module")
def req():
    return kd.sample(50, "wide", seed=3)


def test_parameter_counts_are_the_real_ones_beside_the_papers():
    # 17*256+256 + 4*(256*256+256) + 256*18+18 and 17*32+32 + 32*32+32 + 32*18+18
    assert nets.count_parameters(nets.teacher()) == 272_402
    assert nets.count_parameters(nets.student()) == 2_226
    counts = nets.parameter_counts()
    assert counts["teacher"] == {"real": 272_402, "paper": paper.PARAMETERS["teacher"]}
    assert counts["student"] == {"real": 2_226, "paper": paper.PARAMETERS["student"]}
    assert paper.PARAMETERS == {"teacher": 1.6e6, "student": 1e4}


def test_outputs_are_groups_of_three_with_a_softmax_each(req):
    model = nets.student()
    logits = model(torch.from_numpy(kd.features(req)))
    assert logits.shape == (50, 6, 3)
    probabilities = model.probabilities(req)
    assert probabilities.shape == (50, 6, 3)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(model.decide(req), probabilities.argmax(axis=-1))


def test_implements_the_policy_interface(req):
    model = nets.teacher(name="dil")
    assert isinstance(model, kd.Policy)
    decisions = model.decide(req)
    assert decisions.dtype == np.int64 and decisions.shape == (50, 6)
    assert set(np.unique(decisions)) <= {0, 1, 2}


def test_decide_runs_without_gradients_and_keeps_the_mode(req):
    model = nets.student()
    model.train()
    model.decide(req)
    assert model.training
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("transform", nets.TRANSFORMS)
def test_fitted_scaler_standardises_training_features(req, transform):
    scaler = nets.InputScaler(17, transform, stats="fit").fit(kd.features(req))
    z = scaler(torch.from_numpy(kd.features(req))).numpy()
    if transform == "none":
        np.testing.assert_array_equal(z, kd.features(req))
    else:
        np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-4)
        np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-3)
        assert np.isfinite(z).all()


@pytest.mark.parametrize("transform", ["log", "standard"])
def test_wide_statistics_are_the_exact_moments_under_the_wide_preset(transform):
    mean, std = nets.wide_statistics(6, transform)
    x = kd.features(kd.sample(100_000, "wide", seed=4)).astype(np.float64)
    z = np.log(np.maximum(x, nets.LOG_FLOOR)) if transform == "log" else x
    np.testing.assert_allclose(z.mean(axis=0), mean, atol=0.015)
    np.testing.assert_allclose(z.std(axis=0), std, atol=0.015)
    if transform == "log":  # -log U(0, 1) is Exp(1): mean -1, std 1 for E, D, b1, b2
        assert mean[0] == -1.0 and std[0] == 1.0


def test_wide_scaler_ignores_the_training_data(req):
    scaler = nets.InputScaler(17, "log", stats="wide")
    before = scaler.mean.clone(), scaler.std.clone()
    scaler.fit(kd.features(kd.sample(30, "narrow", seed=1)))
    assert torch.equal(scaler.mean, before[0]) and torch.equal(scaler.std, before[1])
    with pytest.raises(ValueError, match="stats must be one of"):
        nets.InputScaler(17, "log", stats="test")


def test_wrong_feature_width_and_bad_inputs_raise(req):
    model = nets.student()
    with pytest.raises(ValueError, match=r"shape \(n, 17\), got shape \(50, 16\)"):
        model.probabilities(kd.features(req)[:, :16])
    with pytest.raises(ValueError, match="empty"):
        nets.check_features(np.zeros((0, 17)), 17)
    with pytest.raises(ValueError, match="finite"):
        nets.check_features(np.full((2, 17), np.nan), 17)
    with pytest.raises(ValueError, match=r"\|A\| = 4"):
        model.decide(kd.sample(5, num_subtasks=4))
    with pytest.raises(ValueError, match="transform must be one of"):
        nets.MLPPolicy(transform="sqrt")
    with pytest.raises(ValueError, match="hidden"):
        nets.MLPPolicy(hidden=(32, 0))
    with pytest.raises(ValueError, match="num_subtasks"):
        nets.MLPPolicy(num_subtasks=0)


def test_other_numbers_of_subtasks():
    model = nets.MLPPolicy(num_subtasks=3, hidden=(8,))
    req = kd.sample(4, num_subtasks=3)
    assert model.input_width == 11
    assert model.decide(req).shape == (4, 3)


def test_pickle_round_trip_keeps_decisions(req):
    model = nets.student()
    model.scaler.fit(kd.features(req))
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.decide(req), model.decide(req))
    assert clone.name == model.name
