"""The lean student (kdoffload.lean): same decisions as torch, clear errors on bad files."""

import copy
import json
import struct

import numpy as np
import pytest
import torch

import kdoffload as kd
from kdoffload import lean


def small_mlp(inputs=17, hidden=32, outputs=18, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, outputs),
    )


@pytest.fixture(scope="module")
def trained():
    """A 17-32-32-18 student briefly fitted to exact labels, so its decisions are varied."""
    torch.set_num_threads(1)
    train = kd.sample(2000, seed=1)
    x = torch.from_numpy(kd.features(train))
    y = torch.from_numpy(kd.solve(train))
    net = small_mlp()
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(150):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x).reshape(-1, 3), y.reshape(-1))
        loss.backward()
        optimiser.step()
    return net.eval()


@pytest.fixture(scope="module")
def test_set():
    return kd.sample(10_000, seed=2)


def torch_decisions(net, req):
    x = kd.features(req)
    with torch.no_grad():
        return net(torch.from_numpy(x)).reshape(req.n, req.num_subtasks, 3).argmax(dim=2).numpy()


def test_lean_student_makes_exactly_the_torch_decisions(trained, test_set, tmp_path):
    path = tmp_path / "student.kdlean"
    size = lean.export_lean(trained, path)
    assert size == path.stat().st_size < 10_000
    student = lean.load_lean(path)
    assert student.num_parameters == sum(p.numel() for p in trained.parameters())
    expected = torch_decisions(trained, test_set)
    assert len(np.unique(expected)) == 3  # the test is not trivially passed by a constant model
    decisions = student.decide(test_set)
    assert decisions.dtype == np.int64 and decisions.shape == (10_000, 6)
    np.testing.assert_array_equal(decisions, expected)
    # one request at a time (the online regime) too
    for i in range(0, 10_000, 97):
        np.testing.assert_array_equal(student.decide(test_set.take(i)), expected[i:i + 1])


def test_lean_features_equal_package_features(test_set, tmp_path):
    lean.export_lean(small_mlp(), tmp_path / "s.kdlean")
    student = lean.load_lean(tmp_path / "s.kdlean")
    np.testing.assert_array_equal(student.features(test_set), kd.features(test_set))


@pytest.fixture(scope="module")
def trained_policy():
    """A kdoffload.nets student (log input pipeline, fitted scaler) briefly fitted to exact labels."""
    from kdoffload import nets

    torch.set_num_threads(1)
    train = kd.sample(2000, seed=1)
    model = nets.student(name="kd_dil")
    model.scaler.fit(kd.features(train))
    x = torch.from_numpy(kd.features(train))
    y = torch.from_numpy(kd.solve(train))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x).reshape(-1, 3), y.reshape(-1)).backward()
        optimiser.step()
    return model.eval()


@pytest.mark.parametrize("transform", ["log", "standard"])
def test_input_pipeline_of_the_policy_travels_in_the_file(trained_policy, test_set, tmp_path, transform):
    model = trained_policy
    if transform != model.scaler.transform:
        model = copy.deepcopy(model)
        model.scaler.transform = transform
        model.scaler.fit(kd.features(kd.sample(500, seed=4)))
    lean.export_lean(model, tmp_path / "p.kdlean")
    student = lean.load_lean(tmp_path / "p.kdlean")
    assert student.name == "kd_dil_lean" and student.transform == transform
    expected = model.decide(test_set)
    assert len(np.unique(expected, axis=0)) > 1  # the comparison below is not between constants
    np.testing.assert_array_equal(student.decide(test_set), expected)
    np.testing.assert_allclose(student.inputs(kd.features(test_set)),
                               model.scaler(torch.from_numpy(kd.features(test_set))).numpy(), rtol=1e-6, atol=1e-6)


def test_truncated_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "s.kdlean"
    lean.export_lean(small_mlp(), path)
    data = path.read_bytes()
    for cut in (5, 40, len(data) - 4):
        (tmp_path / "cut.kdlean").write_bytes(data[:cut])
        with pytest.raises(lean.LeanFormatError, match="truncated"):
            lean.load_lean(tmp_path / "cut.kdlean")


def test_foreign_or_corrupt_file_raises(tmp_path):
    path = tmp_path / "s.kdlean"
    lean.export_lean(small_mlp(), path)
    data = bytearray(path.read_bytes())
    (tmp_path / "foreign").write_bytes(b"PK\x03\x04" + bytes(data[4:]))
    with pytest.raises(lean.LeanFormatError, match="not a kdoffload lean weight file"):
        lean.load_lean(tmp_path / "foreign")
    data[-1] ^= 0xFF
    (tmp_path / "flipped").write_bytes(bytes(data))
    with pytest.raises(lean.LeanFormatError, match="CRC-32"):
        lean.load_lean(tmp_path / "flipped")


def _rewrite_header(path, out, **changes):
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<6sHI", data)
    header = json.loads(data[12:12 + length])
    header.update(changes)
    text = json.dumps(header).encode()
    out.write_bytes(struct.pack("<6sHI", magic, version, len(text)) + text + data[12 + length:])


def test_wrong_shaped_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "s.kdlean"
    lean.export_lean(small_mlp(), path)
    bad = tmp_path / "bad.kdlean"
    _rewrite_header(path, bad, layers=[[17, 32], [31, 32], [32, 18]])  # does not chain
    with pytest.raises(lean.LeanFormatError, match="layer 1 takes 31 inputs but layer 0 gives 32"):
        lean.load_lean(bad)
    _rewrite_header(path, bad, layers=[[17, 32], [32, 64], [64, 18]])  # chains, wrong size
    with pytest.raises(lean.LeanFormatError, match="wrong shape"):
        lean.load_lean(bad)
    _rewrite_header(path, bad, num_subtasks=5)  # 17 features, 18 outputs do not fit |A| = 5
    with pytest.raises(lean.LeanFormatError, match=r"needs 2\|A\| \+ 5 = 15 features"):
        lean.load_lean(bad)


def test_export_refuses_models_it_cannot_run(tmp_path):
    with pytest.raises(lean.LeanFormatError, match="needs 3\\|A\\| = 18"):
        lean.export_lean(small_mlp(outputs=12), tmp_path / "x")
    with pytest.raises(ValueError, match="Linear and ReLU layers only"):
        lean.export_lean(torch.nn.Sequential(torch.nn.Linear(17, 18), torch.nn.Tanh()), tmp_path / "x")
    with pytest.raises(ValueError, match="ends with a ReLU"):
        lean.export_lean(torch.nn.Sequential(torch.nn.Linear(17, 18), torch.nn.ReLU()), tmp_path / "x")


def test_batched_argmax_breaks_ties_like_argmax(tmp_path):
    lean.export_lean(small_mlp(), tmp_path / "s.kdlean")
    student = lean.load_lean(tmp_path / "s.kdlean")
    rng = np.random.default_rng(0)
    logits = rng.integers(0, 3, size=(500, 18)).astype(np.float32)  # many exact ties
    student.logits = lambda x: logits[:len(x)]  # only the argmax is under test
    req = kd.sample(500, seed=0)
    np.testing.assert_array_equal(student.decide(req), logits.reshape(500, 6, 3).argmax(axis=2))
    np.testing.assert_array_equal(student.decide(req.take(slice(0, 5))), logits[:5].reshape(5, 6, 3).argmax(axis=2))


@pytest.mark.parametrize("output_return", [True, False])
def test_lean_dynamic_program_matches_the_solver_ties_included(output_return):
    rng = np.random.default_rng(0)
    n = 3000
    small = kd.Requirements(  # small integers: many exact ties between decisions
        E=rng.integers(0, 3, (n, 6)).astype(float), D=rng.integers(0, 2, (n, 7)).astype(float),
        p1=rng.integers(1, 3, n).astype(float), p2=rng.integers(1, 3, n).astype(float),
        b1=rng.integers(1, 3, n).astype(float), b2=rng.integers(1, 3, n).astype(float),
    )
    policy = lean.LeanDynamicProgramming(output_return=output_return)
    for req in (small, kd.sample(3000, "wide", seed=5), kd.sample(1000, "narrow", num_subtasks=4, seed=6)):
        np.testing.assert_array_equal(policy.decide(req), kd.solve(req, output_return=output_return))
    assert policy.decide(small.take(3)).shape == (1, 6)
