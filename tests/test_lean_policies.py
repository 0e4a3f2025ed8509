"""Lean (per-request) forms of the Table 1 policies: same decisions as the reference forms,
operation counts worked by hand, and a clear error when a lean form disagrees."""

import numpy as np
import pytest
import torch

import kdoffload as kd
from kdoffload import lean, lean_policies as lp, nets
from kdoffload.drl import QNetwork


@pytest.fixture(scope="module")
def req():
    return kd.sample(10_000, "wide", seed=21)


@pytest.fixture(scope="module")
def singles(req):
    return [req.take(i) for i in range(req.n)]


def ties(n=3000, seed=0):
    """Small integers: many exact ties between locations."""
    rng = np.random.default_rng(seed)
    return kd.Requirements(
        E=rng.integers(0, 3, (n, 6)).astype(float), D=rng.integers(0, 2, (n, 7)).astype(float),
        p1=rng.integers(1, 3, n).astype(float), p2=rng.integers(1, 3, n).astype(float),
        b1=rng.integers(1, 3, n).astype(float), b2=rng.integers(1, 3, n).astype(float),
    )


def spread(model, scale=0.5, seed=0):
    """Random weights wide enough that a network's decisions vary with the input."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model.eval()


def test_decision_rows_follow_all_decisions():
    from kdoffload.solvers import all_decisions

    for num in (1, 4, 6):
        table = lean.decision_table(num)
        np.testing.assert_array_equal(table[:, 0, :], all_decisions(num))
        assert not table.flags.writeable
        row = lean.decision_rows([2], num)
        assert row.shape == (1, num) and row.flags.writeable
    codes = [0, 1, 3 ** 10 - 1, 12345]
    expected = np.array([[(c // 3 ** (9 - t)) % 3 for t in range(10)] for c in codes])
    np.testing.assert_array_equal(lean.decision_rows(codes, 10), expected)  # beyond the table


@pytest.mark.parametrize("reference", [kd.Greedy(), kd.FixedLocation(0), kd.FixedLocation(1), kd.FixedLocation(2),
                                       kd.DynamicProgramming(), kd.DynamicProgramming(output_return=False)],
                         ids=["greedy", "local", "edge", "cloud", "dp", "dp_no_return"])
def test_lean_solvers_make_the_reference_decisions(reference, req, singles):
    form = lp.lean_form(reference)
    result = lp.check_form(form, reference, req, singles=singles)
    assert result["checked"] == 10_000 and result["identical"], result
    # ties: the lower location, as the vectorised argmin / forward pass
    small = ties()
    np.testing.assert_array_equal(form.decide(small), reference.decide(small))
    assert lp.check_form(form, reference, small.take(slice(0, 500)))["identical"]
    if not isinstance(reference, kd.FixedLocation):
        assert result["distinct_decisions"] > 10  # not a trivial agreement


def test_lean_greedy_on_other_sizes():
    """Batches (numpy, from LeanGreedy.BATCH_FROM rows) and small batches (Python, row by row)."""
    for req in (kd.sample(2000, "narrow", num_subtasks=4, seed=1), kd.sample(500, num_subtasks=1, seed=2),
                kd.sample(300, num_subtasks=10, seed=3), ties(40)):
        for n in (2, lp.LeanGreedy.BATCH_FROM - 1, lp.LeanGreedy.BATCH_FROM, req.n):
            part = req.take(slice(0, n))
            np.testing.assert_array_equal(lp.LeanGreedy().decide(part), kd.Greedy().decide(part))


@pytest.mark.parametrize("hidden", [(32, 32), (64, 64, 64, 64, 64)], ids=["student", "teacher_shaped"])
def test_lean_mlp_makes_the_torch_decisions(hidden, req, singles):
    torch.manual_seed(0)
    model = nets.MLPPolicy(hidden=hidden, name="net")
    spread(model, 0.4)
    form = lp.lean_form(model)
    assert isinstance(form, lean.LeanMLP) and form.name == "net_lean"
    result = lp.check_form(form, model, req, singles=singles)
    assert result["identical"], result
    assert result["distinct_decisions"] > 10


def test_lean_mlp_in_memory_equals_the_file(tmp_path):
    torch.manual_seed(1)
    model = nets.student()
    lean.export_lean(model, tmp_path / "s.kdlean")
    from_file, in_memory = lean.load_lean(tmp_path / "s.kdlean"), lean.lean_mlp(model)
    for a, b in zip(from_file.weights + from_file.biases, in_memory.weights + in_memory.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(from_file.mean, in_memory.mean)


@pytest.mark.parametrize("dueling", [True, False])
def test_lean_q_network_makes_the_torch_decisions(dueling, req, singles):
    torch.manual_seed(0)
    model = spread(QNetwork(hidden=(32, 32), dueling=dueling), 0.5)
    form = lp.lean_form(model)
    assert isinstance(form, lp.LeanQNetwork) and form.num_actions == 729
    result = lp.check_form(form, model, req, singles=singles)
    assert result["identical"], result
    assert result["distinct_decisions"] > 10


def test_random_lean_form_is_seeded_and_uniform(req, singles):
    result = lp.check_random(lp.LeanRandom(seed=3), kd.RandomPolicy(seed=3), req, singles=singles)
    assert result["method"] == "distribution" and result["identical"], result
    assert result["seeded_equality"] and result["tests"] == 7  # 6 subtasks and the joint over 729
    policy = lp.LeanRandom(seed=3)
    first = policy.decide(req.take(0))
    assert first.shape == (1, 6)
    again = lp.LeanRandom(seed=3).decide(req.take(slice(0, 50)))
    np.testing.assert_array_equal(again[0], first[0])  # a batch draws as single requests do
    assert len(np.unique(again, axis=0)) > 40  # fresh decisions per request, unlike RandomPolicy per call


class Biased(lp.LeanRandom):
    """Device half of the time: a random policy with the wrong distribution."""

    def decide(self, req):
        decisions = super().decide(req)
        decisions[:, 0] = np.where(self._rng.random() < 0.5, 0, decisions[:, 0])
        return decisions


def test_biased_random_form_is_refused(req, singles):
    with pytest.raises(lp.LeanMismatchError, match="'random_lean' does not match 'random' in distribution"):
        lp.check_forms({"random_lean": ("random", kd.RandomPolicy(seed=3), Biased(seed=3))}, req, singles=singles)


class Wrong:
    """Greedy's decisions, except the cloud for the first subtask wherever E_0 > threshold."""

    name = "wrong"

    def __init__(self, threshold):
        self.threshold = threshold

    def decide(self, req):
        decisions = kd.Greedy().decide(req)
        decisions[req.E[:, 0] > self.threshold, 0] = 2
        return decisions


def test_disagreement_raises_naming_the_form_and_the_count(req, singles):
    req, singles = req.take(slice(0, 2000)), singles[:2000]  # Wrong is slow one request at a time
    threshold = np.quantile(req.E[:, 0], 0.997)
    expected = Wrong(threshold).decide(req)
    count = int((expected != kd.Greedy().decide(req)).any(axis=1).sum())
    assert 0 < count <= 10
    forms = {"greedy_lean": ("greedy", kd.Greedy(), lp.LeanGreedy()),
             "wrong_lean": ("greedy", kd.Greedy(), Wrong(threshold))}
    with pytest.raises(lp.LeanMismatchError) as error:
        lp.check_forms(forms, req, singles=singles)
    message = str(error.value)
    assert f"'wrong_lean' disagrees with 'greedy' on {count:,} of 2,000 requirements one at a time" in message
    assert f"and on {count:,} in batches" in message
    assert "greedy_lean" not in message
    results = lp.check_forms(forms, req, singles=singles, raise_on_mismatch=False)
    assert results["greedy_lean"]["identical"] and results["wrong_lean"]["disagreements"] == count


def test_lean_form_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="minimises latency"):
        lp.lean_form(kd.Greedy(objective="energy"))
    with pytest.raises(ValueError, match="no lean form"):
        lp.lean_form(object())
    assert isinstance(lp.lean_form(kd.ExhaustiveSearch()), lean.LeanDynamicProgramming)
    assert lp.lean_form(kd.RandomPolicy(seed=7)).seed == 7


def test_operation_counts_by_hand():
    # 17 -> 4 -> 18, no input transform: 2 (17*4 + 4*18) = 280 multiply-adds, 4 ReLUs;
    # 17 feature divisions, 2 comparisons per group of 3 for |A| = 6
    tiny = torch.nn.Sequential(torch.nn.Linear(17, 4), torch.nn.ReLU(), torch.nn.Linear(4, 18))
    ops = lp.operations(lp.lean_form(tiny))
    assert (ops["linear"], ops["activations"], ops["flops"]) == (280, 4, 284)
    assert (ops["features"], ops["input_pipeline"], ops["argmax"], ops["total"]) == (17, 0, 12, 313)
    assert ops["dtype"] == "float32"
    # the same shapes through the log pipeline: 4 operations per feature
    assert lean.mlp_operations([(17, 4), (4, 18)], 6, "log")["total"] == 313 + 68
    # the paper's networks: teacher 2 * 271,104 multiply-adds + 1,280 ReLUs, student 2 * 2,144 + 64
    assert lp.operations(nets.teacher())["flops"] == 2 * 271_104 + 1_280
    assert lp.operations(nets.student())["flops"] == 2 * 2_144 + 64
    # DQN at |A| = 3: 11 -> 4 -> 27 actions; argmax over 27 actions
    q = QNetwork(num_subtasks=3, hidden=(4,))
    ops = lp.operations(lp.lean_form(q))
    assert (ops["linear"], ops["activations"], ops["argmax"]) == (2 * (11 * 4 + 4 * 27), 4, 26)
    assert ops["total"] == 304 + 4 + 11 + 44 + 26
    # the torch form adds the value head (2 * 4) and the dueling combination (3 * 27)
    assert lp.operations(q)["total"] == ops["total"] + 8 + 81
    # solvers: Greedy lean 3 + 8|A|; DP lean 33|A| - 7; vectorised forms add the cost tensors
    assert lp.operations(lp.LeanGreedy(), 6)["total"] == 51
    assert lp.operations(lean.LeanDynamicProgramming(), 6)["total"] == 191
    assert lp.operations(lean.LeanDynamicProgramming(), 1)["total"] == 3 + 5 + 7 + 11
    assert lp.operations(kd.Greedy(), 6)["total"] == 3 + 12 + 63 + 30
    assert lp.operations(kd.ExhaustiveSearch(), 2)["total"] == 3 + 4 + 27 + 9 * 6 + 1
    assert lp.operations(kd.IntegerProgram(), 6) is None
    assert lp.operations(kd.FixedLocation(1), 6)["total"] == 0
