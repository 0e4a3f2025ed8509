"""The policy registry (kdoffload.registry): one contract run over every registered chain
policy in both of its Table 1 forms, and a toy policy that one registration makes appear
everywhere policies are listed."""

import subprocess
import sys

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import experiments, graphs, plots, registry, timing
from kdoffload.lean_policies import lean_form
from kdoffload.timing.forms import policy_order
from kdoffload.timing.table1 import table1_policies

N = 12

#: Per system model: a batch of N requests, a request batch of another size the policies
#: built for the first may refuse, and what their error must then name. A model listed
#: here has every registered policy checked; graph policies join with a "graph" entry.
SAMPLES = {
    "chain": (lambda: kd.sample(N, "wide", seed=21), lambda: kd.sample(3, "wide", num_subtasks=4, seed=2),
              ("|A| = 6", "|A| = 4")),
    "graph": (lambda: graphs.random_dag(8, requests=N, seed=21), lambda: graphs.random_dag(5, requests=3, seed=2),
              ("nodes",)),
}


@pytest.fixture(scope="module")
def req():
    return SAMPLES["chain"][0]()


def forms(info, seed=0):
    """(key, policy) of the registered policy ``info`` and of its lean form, if Table 1 times one."""
    policy = info.build(seed=seed) if info.stochastic else info.instance()
    found = [(info.name, policy)]
    found += [(timed.key, lean_form(policy, name=timed.key)) for timed in info.table1 if timed.form == "lean"]
    return found


def width(req) -> int:
    """Positions decided per request: |A| subtasks of a chain, the nodes of a task graph."""
    return req.num_subtasks if hasattr(req, "num_subtasks") else req.num_nodes


def check_contract(info, req):
    """The checks every policy passes (after scikit-learn's estimator checks)."""
    _, another_size, named = SAMPLES[info.model]
    for key, policy in forms(info):
        decisions = policy.decide(req)
        assert isinstance(decisions, np.ndarray), key
        assert decisions.dtype == np.int64 and decisions.shape == (req.n, width(req)), key
        assert np.isin(decisions, (0, 1, 2)).all(), key
        if info.stochastic:
            # reproducible from the seed, not from the call: a fresh policy of the same seed draws the same
            again = dict(forms(info))[key].decide(req)
            np.testing.assert_array_equal(again, decisions, err_msg=key)
            reseeded = dict(forms(info, seed=1))[key].decide(req)
            assert not np.array_equal(reseeded, decisions), key
        else:
            np.testing.assert_array_equal(policy.decide(req), decisions, err_msg=f"{key}: same input, same decisions")
            rows = np.concatenate([policy.decide(req.take(i)) for i in range(req.n)])
            np.testing.assert_array_equal(rows, decisions, err_msg=f"{key}: a batch decides as its rows")
        fewer = another_size()
        try:
            out = policy.decide(fewer)
        except ValueError as error:  # a policy built for one size refuses another, saying so
            assert all(word in str(error) for word in named), (key, str(error))
        else:  # a policy that decides any size decides this one
            assert out.shape == (fewer.n, width(fewer)) and np.isin(out, (0, 1, 2)).all(), key


@pytest.mark.parametrize("info", [info for model in SAMPLES for info in registry.policies(model)],
                         ids=lambda info: f"{info.model}-{info.name}")
def test_every_registered_policy_meets_the_contract(info):
    check_contract(info, SAMPLES[info.model][0]())


def test_the_contract_covers_every_family_and_both_forms():
    infos = registry.policies("chain")
    assert {info.family for info in infos} == {"exact", "heuristic", "learned"}
    lean = [timed.key for info in infos for timed in info.table1 if timed.form == "lean"]
    assert lean == ["optimal_dp_lean", "greedy_lean", "drl_lean", "dil_lean", "kd_dil_lean", "baseline_dil_lean",
                    "local_lean", "edge_lean", "cloud_lean", "random_lean"]


def test_exact_solvers_agree_and_learned_examples_need_no_training(req):
    decided = [registry.build(name).decide(req) for name in registry.names(family="exact")]
    assert all(np.array_equal(d, decided[0]) for d in decided)
    assert not hasattr(registry.get("dil").instance(), "history")  # untrained: fit() sets history


class EdgeFirst:
    """A toy rule: the first subtask on the edge, the rest on the device."""

    name = "edge_first"

    def decide(self, req):
        decisions = np.zeros((req.n, req.num_subtasks), dtype=np.int64)
        decisions[:, 0] = 1
        return decisions


@pytest.fixture
def toy():
    info = registry.register("edge_first", label="Edge first", family="heuristic", order=75,
                             build=lambda seed=0, **cost: EdgeFirst(),
                             table1=[registry.Timed("edge_first", "vectorised", "Edge first (numpy)", "numpy")])
    yield info
    registry.unregister("edge_first")


def test_one_registration_makes_a_policy_appear_everywhere(toy, req):
    assert "edge_first" in registry.names() and "edge_first" in experiments.rule_based()
    assert registry.names()[-2:] == ("edge_first", "random")  # order 75: after Cloud (72), before Random (80)
    assert experiments.policy("edge_first").decide(req)[:, 0].tolist() == [1] * N
    assert kd.heuristic("edge_first").decide(req)[:, 1:].sum() == 0
    assert plots.label("edge_first") == plots.POLICY_LABELS["edge_first"] == "Edge first"
    assert timing.forms()["edge_first"] == ("edge_first", "vectorised", "numpy")
    assert timing.LABELS["edge_first"] == "Edge first (numpy)"
    assert "edge_first" in policy_order() and "edge_first" in table1_policies(lean=False)
    frame = experiments.scores({"edge_first": "edge_first", "optimal": "optimal_dp"},
                               kd.data.LabelledDataset(req, kd.solve(req), "wide", 21, "dp"), [0])
    assert frame.set_index("policy").loc["optimal", "normalized_latency"] == 1.0
    check_contract(toy, req)


def test_after_unregistering_a_policy_is_gone():
    registry.register("edge_first", label="Edge first", family="heuristic", order=75, build=lambda seed=0: EdgeFirst())
    registry.unregister("edge_first")
    assert "edge_first" not in registry.names() and plots.label("edge_first") == "edge_first"
    with pytest.raises(ValueError, match="unknown policy 'edge_first'"):
        experiments.policy("edge_first")


def test_registration_errors_name_the_field_and_value():
    with pytest.raises(ValueError, match=r"policy 'greedy' is already registered for the chain model"):
        registry.register("greedy", label="G", family="heuristic", order=1, build=lambda seed=0: None)
    with pytest.raises(ValueError, match=r"family must be one of \['exact', 'heuristic', 'learned'\], "
                                         r"got family = 'oracle'"):
        registry.register("toy", label="T", family="oracle", order=1, build=lambda seed=0: None)
    with pytest.raises(ValueError, match=r"model must be one of \['chain', 'graph'\], got model = 'tree'"):
        registry.get("greedy", model="tree")
    with pytest.raises(ValueError, match=r"table1 key 'greedy_lean' of 'toy' is already timed for 'greedy'"):
        registry.register("toy", label="T", family="heuristic", order=1, build=lambda seed=0: None,
                          table1=[registry.Timed("greedy_lean", "lean", "T", "")])
    with pytest.raises(ValueError, match=r"unknown policy 'toy' for the chain model"):
        registry.get("toy")
    with pytest.raises(ValueError, match=r"form must be one of \['lean', 'vectorised'\], got form = 'compiled'"):
        registry.Timed("toy", "compiled", "T", "")


def test_a_graph_policy_may_share_a_chain_name():
    assert isinstance(registry.build("greedy", model="graph"), graphs.GraphGreedy)
    assert isinstance(registry.build("greedy"), kd.Greedy)
    assert registry.names("graph", "exact") == ("exhaustive", "mincut", "ilp")
    assert registry.names("graph", "heuristic") == ("greedy", "local", "edge", "cloud", "random")


def test_labels_resolve_names_results_keys_and_table1_keys():
    assert plots.label("drl_narrow") == "DRL (narrow)" and plots.label("drl") == "DRL"  # a results-file key
    assert plots.label("optimal") == "Optimal" and plots.label("greedy_lean") == "Greedy (lean)"
    assert timing.LABELS["drl"] == "DRL (torch)" and timing.LABELS["greedy"] == "Greedy (vectorised)"
    assert plots.label("not a policy") == "not a policy"


def test_importing_the_package_and_the_exact_solvers_does_not_import_torch():
    code = ("import sys, kdoffload as kd; kd.solve(kd.sample(4), method='dp'); kd.registry.names();"
            "from kdoffload import experiments, timing;"
            "print(sorted(m for m in ('torch', 'pulp') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert found.strip() == "[]"
    # the promoted list is explicit; the learned entry points load torch only when asked for
    assert "train_teacher" in kd.__all__ and len(kd.__all__) == len(set(kd.__all__))
    code = "import sys, kdoffload as kd; kd.train_teacher; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "True\n"
