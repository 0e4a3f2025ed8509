"""Softening, the KD loss and the distilled student."""

import math
from dataclasses import replace

import joblib
import numpy as np
import pytest
import torch

import kdoffload as kd
from kdoffload import distill, paper
from kdoffload import train as tr

TINY = tr.TrainConfig(hidden=(16,), lr=1e-2, batch_size=32, epochs=10, patience=None, val_fraction=0.2)


def tiny_dataset(n, preset="wide", seed=0):
    req = kd.sample(n, preset, seed=seed)
    return kd.LabelledDataset(req, kd.solve(req, "dp"), preset, seed, "dp")


def random_probabilities(shape, seed=0, sharpness=5.0):
    logits = sharpness * np.random.default_rng(seed).normal(size=shape)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def entropy(q):
    return -(q * np.log(np.clip(q, 1e-300, None))).sum(axis=-1)


# --- soften -------------------------------------------------------------------------------

def test_rows_sum_to_one_and_shape_is_kept():
    p = random_probabilities((40, 6, 3))
    for T in (1, 1.5, 5, 20, 1000):
        q = distill.soften(p, T)
        assert q.shape == p.shape
        np.testing.assert_allclose(q.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
        assert (q >= 0).all()


def test_temperature_one_is_the_identity():
    p = random_probabilities((10, 3), seed=1)
    np.testing.assert_array_equal(distill.soften(p, 1), p)
    np.testing.assert_array_equal(distill.soften(p, 1.0), p)


def test_higher_temperature_is_softer_and_keeps_the_order():
    p = random_probabilities((200, 3), seed=2)
    previous_entropy, previous_max = entropy(p), p.max(axis=-1)
    for T in (1.5, 2, 5, 10, 50):
        q = distill.soften(p, T)
        assert (entropy(q) >= previous_entropy - 1e-12).all()
        assert (q.max(axis=-1) <= previous_max + 1e-12).all()
        np.testing.assert_array_equal(np.argsort(q, axis=-1, kind="stable"), np.argsort(p, axis=-1, kind="stable"))
        previous_entropy, previous_max = entropy(q), q.max(axis=-1)
    np.testing.assert_allclose(distill.soften(p, 1e9), 1 / 3, atol=1e-6)  # tends to uniform


def test_one_hot_and_zero_entries_stay_put():
    p = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    np.testing.assert_allclose(distill.soften(p, 5), [[1, 0, 0], [0, 0.5, 0.5]])


def hinton_by_hand(p, T):
    """q_i = p_i^(1/T) / sum_j p_j^(1/T), written out with Python floats."""
    powered = [x ** (1.0 / T) for x in p]
    total = powered[0] + powered[1] + powered[2]
    return [x / total for x in powered]


def test_worked_example_hinton_form_against_the_paper():
    p = paper.SOFTENING_EXAMPLE["p"]
    assert p == (0.999, 2e-4, 3e-6)
    # Hinton's form, by hand: T = 5 gives about (0.79, 0.14, 0.06), T = 10 about (0.59, 0.25, 0.16).
    by_hand = {T: hinton_by_hand(p, T) for T in (5, 10)}
    np.testing.assert_allclose(by_hand[5], [0.79, 0.14, 0.06], atol=0.01)
    np.testing.assert_allclose(by_hand[10], [0.59, 0.25, 0.16], atol=0.01)
    # e.g. T = 5: 0.999^0.2 = 0.99980, (2e-4)^0.2 = 0.18206, (3e-6)^0.2 = 0.07860
    assert math.isclose(by_hand[5][0], 0.99980 / (0.99980 + 0.18206 + 0.07860), rel_tol=1e-4)
    # soften implements exactly that (p normalised first: the printed p sums to 1.000203)
    normalised = np.asarray(p) / sum(p)
    for T in (5, 10):
        np.testing.assert_allclose(distill.soften(normalised, T), by_hand[T], rtol=1e-12)
    # ... and it is NOT what the paper prints
    assert paper.SOFTENING_EXAMPLE["softened"] == {5: (0.71, 0.20, 0.09), 10: (0.53, 0.28, 0.19)}
    for T, printed in paper.SOFTENING_EXAMPLE["softened"].items():
        assert np.abs(np.asarray(printed) - by_hand[T]).max() > 0.05


def test_softening_example_table():
    table = distill.softening_example()
    assert set(table["source"]) == {"input", "paper", "hinton"}
    paper_rows = table[table.source == "paper"].set_index("T")
    assert paper_rows.loc[5, "q_device"] == 0.71 and paper_rows.loc[10, "q_cloud"] == 0.19
    hinton = table[table.source == "hinton"].set_index("T")
    assert round(hinton.loc[5, "q_device"], 2) == 0.79 and round(hinton.loc[10, "q_cloud"], 2) == 0.16


@pytest.mark.parametrize("T, message", [
    (0.5, "T must be >= 1 .* got T = 0.5"),
    (0, "T = 0"),
    (-2, "T = -2"),
    (float("nan"), "T = nan"),
    (float("inf"), "finite"),
    ("5", "real number"),
])
def test_bad_temperature_raises(T, message):
    with pytest.raises(ValueError, match=message):
        distill.soften([0.5, 0.3, 0.2], T)


@pytest.mark.parametrize("p, message", [
    ([0.5, -0.1, 0.6], r"p\[1\] = -0.1"),
    ([0.5, np.nan, 0.5], "NaN"),
    ([[0.5, 0.3, 0.2], [0.5, 0.3, 0.3]], r"row \[1\] summing to 1.1"),
    ([0.2, 0.2, 0.2], "summing to 0.6"),
    (np.zeros((0, 3)), "shape"),
])
def test_non_probability_input_raises(p, message):
    with pytest.raises(ValueError, match=message):
        distill.soften(p, 5)


# --- KD loss and targets --------------------------------------------------------------------

def test_kd_targets_give_the_mixed_kd_loss():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 6, 3, generator=generator)
    soft = random_probabilities((8, 6, 3), seed=3)
    hard = torch.randint(0, 3, (8, 6), generator=generator)
    # (1 - alpha) H(q, softmax z) + alpha H(y, softmax z), the soft term by hand, the hard one by torch
    soft_ce = -(torch.from_numpy(soft) * torch.log_softmax(logits.double(), dim=-1)).sum(-1).mean()
    hard_ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), hard.reshape(-1))
    for alpha in (0.0, 0.3, 1.0):
        targets = torch.from_numpy(distill.kd_targets(soft, 1, hard.numpy(), alpha))
        expected = (1 - alpha) * soft_ce + alpha * hard_ce.double()
        assert torch.allclose(tr.soft_cross_entropy(logits, targets).double(), expected, atol=1e-5)
    assert "arXiv:1503.02531" in distill.kd_targets.__doc__ and "Hinton" in distill.kd_targets.__doc__
    with pytest.raises(ValueError, match="alpha"):
        distill.kd_targets(soft, 5, hard.numpy(), 1.5)
    with pytest.raises(ValueError, match="hard_labels"):
        distill.kd_targets(soft, 5, None, 0.5)


# --- training a student ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def teacher():
    return tr.train_supervised(tiny_dataset(400, seed=21), replace(TINY, hidden=(32, 32), epochs=15),
                               seed=0, progress=False)


def test_distilled_student_learns_the_teacher(teacher):
    narrow = tiny_dataset(200, "narrow", seed=22)
    student = distill.distill(teacher, narrow, T=5, config=TINY, seed=0, progress=False)
    assert student.name == "kd_dil" and student.temperature == 5 and student.alpha == 0
    assert student.history["train_loss"].iloc[-1] < student.history["train_loss"].iloc[0]
    agreement = (student.decide(narrow.requirements) == teacher.decide(narrow.requirements)).mean()
    assert agreement > 0.6
    again = distill.distill(teacher, narrow, T=5, config=TINY, seed=0, progress=False)
    for key, value in student.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key


def test_train_student_kd_caches_by_teacher_weights(teacher, monkeypatch, tmp_path):
    narrow = tiny_dataset(150, "narrow", seed=23)
    monkeypatch.setattr(distill, "datasets", lambda profile, data_seed: {"narrow": narrow})
    monkeypatch.setattr(distill, "_cached_student",
                        joblib.Memory(tmp_path, verbose=0).cache(distill._train_student, ignore=["teacher", "progress"]))
    student = distill.train_student_kd(teacher, T=5, seed=0, profile="smoke", progress=False)
    config = tr.profile_config(tr.STUDENT_CONFIG, "smoke", "student")
    assert student.config == config
    key = (distill.teacher_fingerprint(teacher), 5.0, 0.0, 0, config, "smoke", 0, kd.__version__, None, None)
    assert distill._cached_student.check_call_in_cache(*key)
    other_teacher = tr.train_supervised(tiny_dataset(100, seed=24), replace(TINY, hidden=(32, 32), epochs=2),
                                        seed=1, progress=False)
    assert distill.teacher_fingerprint(other_teacher) != distill.teacher_fingerprint(teacher)
    cached = distill.train_student_kd(teacher, T=5, seed=0, profile="smoke", progress=False)
    assert torch.equal(cached.body[0].weight, student.body[0].weight)


def test_bad_distillation_arguments_raise(teacher):
    narrow = tiny_dataset(20, "narrow", seed=25)
    with pytest.raises(ValueError, match="T must be >= 1"):
        distill.distill(teacher, narrow, T=0.9, config=TINY)
    with pytest.raises(ValueError, match="T must be >= 1"):
        distill.train_student_kd(teacher, T=0.5)
    with pytest.raises(ValueError, match="alpha"):
        distill.train_student_kd(teacher, alpha=-0.1)
    with pytest.raises(ValueError, match="unknown profile"):
        distill.train_student_kd(teacher, profile="nope")
    with pytest.raises(ValueError, match="lr must be"):
        distill.distill(teacher, narrow, config=replace(TINY, lr=-1.0))
