"""Agreement and throughput of the exact task-graph solvers (issue 9), on one core.

Usage::

    OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/bench_graphs.py           # ~5 min
    OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/bench_graphs.py --quick   # sizes / 10
    OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/bench_graphs.py --weak    # + weak ILP form

Instances: random layered DAGs (:func:`kdoffload.graphs.random_dag`), each with its own
structure, parameters drawn from the grid :data:`GRID` and a preset (wide or narrow), one
request each, unless a line says "batched" (one DAG, many requests, solved in one call).
Two costs agree when they are within 1e-9 relative.

Targets of issue 9 (stated for 2 cores; this script runs on one, so a rate is judged
against the full 2-core target -- "met on 1 core" -- and, if short of it, against half
of it -- "met at the per-core share", which assumes two cores double the rate, as they
would for independent instances):

* min-cut, ILP and exhaustive agree on 100 % of >= 2,000 relay instances with n <= 10;
* min-cut and ILP agree on >= 500 relay instances at each n in {20, 50, 100};
* ILP and exhaustive agree on the direct link;
* min-cut >= 1,000 instances/s at n = 50, and >= 50 x faster than the ILP there;
* ILP (direct link) >= 100 instances/s at n = 20 and >= 15 instances/s at n = 100.

Also measured: how often and by how much min-cut misses under the direct link (it
optimises the relay prices; its placement is then costed with the direct link), the
ILP's packing of different DAGs into one model (``decide_many``), the makespan (ILP
against exhaustive search, its rate, and the optimal makespan against the optimal summed
latency), and with ``--weak`` the weak linearisation of the ILP against the marginal form.

Sampling is not timed. The exit status is 1 if an agreement target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pulp  # noqa: E402

from kdoffload import graphs as G  # noqa: E402

#: daggen parameters drawn per instance (uniformly from each tuple); ccr None = the preset's.
GRID = {
    "fat": (0.2, 0.5, 0.8),
    "density": (0.2, 0.5, 0.8),
    "regularity": (0.2, 0.8),
    "jump": (1, 2, 4),
    "ccr": (0.5, None, 10.0),
}
RTOL = 1e-9


def instance(n: int, seed: int, topology: str = "relay", requests: int = 1) -> G.GraphRequirements:
    """A random DAG of ``n`` nodes with parameters drawn from :data:`GRID` (seeded)."""
    rng = np.random.default_rng([n, seed])
    params = {name: values[rng.integers(len(values))] for name, values in GRID.items()}
    preset = ("wide", "narrow")[rng.integers(2)]
    return G.random_dag(n, requests=requests, preset=preset, topology=topology, seed=rng, **params)


class Clock:
    """Total seconds spent per solver name."""

    def __init__(self):
        self.seconds = {}

    def run(self, name: str, solver, req) -> np.ndarray:
        start = time.perf_counter()
        placements = solver.decide(req)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        return placements


def agree(cost: np.ndarray, best: np.ndarray) -> np.ndarray:
    return np.abs(cost - best) <= RTOL * np.maximum(np.abs(best), 1e-300)


def report(lines: list, what: str, value: str, target: str = "", verdict: str = "") -> None:
    line = f"{what:<58s} {value:>24s}  {target:<26s} {verdict}"
    lines.append(line)
    print(line, flush=True)


def rate_verdict(rate: float, target: float) -> str:
    if rate >= target:
        return "met on 1 core"
    if rate >= target / 2:
        return "met at the per-core share"
    return f"MISSED ({rate / (target / 2):.0%} of the per-core share)"


def small_relay(count: int, lines: list) -> bool:
    """Exhaustive, min-cut and ILP on relay instances with n in 1..10."""
    clock = Clock()
    solvers = {"exhaustive": G.ExhaustiveSearch(), "mincut": G.MinCut(), "ilp": G.IntegerProgram()}
    agreed = {"mincut": 0, "ilp": 0}
    for seed in range(count):
        req = instance(1 + seed % 10, seed)
        costs = {name: G.latency(req, clock.run(name, solver, req)) for name, solver in solvers.items()}
        for name in agreed:
            agreed[name] += int(agree(costs[name], costs["exhaustive"]).all())
    ok = all(value == count for value in agreed.values())
    report(lines, f"relay n<=10: min-cut = exhaustive ({count} instances)", f"{agreed['mincut']}/{count}",
           ">= 2,000, 100 %", "met" if agreed["mincut"] == count and count >= 2000 else "MISSED")
    report(lines, f"relay n<=10: ILP = exhaustive ({count} instances)", f"{agreed['ilp']}/{count}",
           ">= 2,000, 100 %", "met" if agreed["ilp"] == count and count >= 2000 else "MISSED")
    for name, seconds in clock.seconds.items():
        report(lines, f"relay n<=10: {name} instances/s (1 core)", f"{count / seconds:,.0f}")
    return ok


def large_relay(sizes, count: int, lines: list) -> tuple[bool, dict]:
    """Min-cut against ILP on relay instances; returns the rates at each size."""
    ok, rates = True, {}
    for n in sizes:
        clock = Clock()
        agreed = 0
        for seed in range(count):
            req = instance(n, seed)
            best = G.latency(req, clock.run("ilp", G.IntegerProgram(), req))
            agreed += int(agree(G.latency(req, clock.run("mincut", G.MinCut(), req)), best).all())
        ok &= agreed == count
        report(lines, f"relay n={n}: min-cut = ILP ({count} instances)", f"{agreed}/{count}", ">= 500, 100 %",
               "met" if agreed == count and count >= 500 else "MISSED")
        rates[n] = {name: count / seconds for name, seconds in clock.seconds.items()}
        report(lines, f"relay n={n}: ILP instances/s (1 core)", f"{rates[n]['ilp']:,.1f}")
        report(lines, f"relay n={n}: min-cut instances/s (1 core)", f"{rates[n]['mincut']:,.0f}",
               ">= 1,000/s (n = 50)" if n == 50 else "",
               rate_verdict(rates[n]["mincut"], 1000) if n == 50 else "")
    return ok, rates


def mincut_batched(n: int, requests: int, lines: list) -> float:
    req = instance(n, 12345, requests=requests)
    start = time.perf_counter()
    G.MinCut().decide(req)
    rate = requests / (time.perf_counter() - start)
    report(lines, f"relay n={n}: min-cut batched, one DAG x {requests} requests", f"{rate:,.0f}/s",
           ">= 1,000/s", rate_verdict(rate, 1000))
    return rate


def misses(cost: np.ndarray, best: np.ndarray) -> tuple[int, np.ndarray]:
    excess = cost / best - 1.0
    return int((excess > RTOL).sum()), excess


def direct(sizes_small: int, sizes, count_small: int, count: int, lines: list) -> bool:
    """ILP vs exhaustive on the direct link, its rate, and how min-cut (relay prices) misses."""
    clock = Clock()
    agreed, missed, excess_all = 0, 0, []
    for seed in range(count_small):
        req = instance(1 + seed % sizes_small, seed, topology="direct")
        best = G.latency(req, clock.run("exhaustive", G.ExhaustiveSearch(), req))
        agreed += int(agree(G.latency(req, clock.run("ilp", G.IntegerProgram(), req)), best).all())
        relay_cut = G.MinCut().decide(req.with_topology("relay"))
        count_missed, excess = misses(G.latency(req, relay_cut), best)
        missed += count_missed
        excess_all.append(excess)
    report(lines, f"direct n<=10: ILP = exhaustive ({count_small} instances)", f"{agreed}/{count_small}",
           "100 %", "met" if agreed == count_small else "MISSED")
    describe_misses(lines, "direct n<=10", missed, np.concatenate(excess_all))
    for n in sizes:
        clock = Clock()
        missed, excess_all, requests = 0, [], []
        for seed in range(count):
            req = instance(n, seed, topology="direct")
            requests.append(req)
            best = G.latency(req, clock.run("ilp", G.IntegerProgram(), req))
            relay_cut = G.MinCut().decide(req.with_topology("relay"))
            count_missed, excess = misses(G.latency(req, relay_cut), best)
            missed += count_missed
            excess_all.append(excess)
        rate = count / clock.seconds["ilp"]
        target = {20: 100, 100: 15}.get(n)
        report(lines, f"direct n={n}: ILP instances/s (1 core, {count} DAGs)", f"{rate:,.1f}",
               f">= {target}/s (2 cores)" if target else "", rate_verdict(rate, target) if target else "")
        describe_misses(lines, f"direct n={n}", missed, np.concatenate(excess_all))
        if target:
            start = time.perf_counter()
            G.IntegerProgram().decide_many(requests)
            packed = count / (time.perf_counter() - start)
            report(lines, f"direct n={n}: ILP packed, the {count} DAGs via decide_many", f"{packed:,.1f}/s",
                   f">= {target}/s (2 cores)", rate_verdict(packed, target))
            req = instance(n, 54321, topology="direct", requests=count)
            start = time.perf_counter()
            G.IntegerProgram().decide(req)
            batched = count / (time.perf_counter() - start)
            report(lines, f"direct n={n}: ILP batched, one DAG x {count} requests", f"{batched:,.1f}/s",
                   f">= {target}/s (2 cores)", rate_verdict(batched, target))
    return agreed == count_small


def makespan(count_small: int, counts: dict, lines: list) -> bool:
    """The makespan: ILP against exhaustive search (n <= 10, both topologies) and its rate."""
    clock, agreed, total = Clock(), 0, 0
    for topology in ("relay", "direct"):
        for seed in range(count_small):
            req = instance(1 + seed % 10, seed, topology=topology)
            best = G.makespan(req, clock.run("exhaustive", G.ExhaustiveSearch(objective="makespan"), req))
            found = G.makespan(req, clock.run("ilp", G.IntegerProgram(objective="makespan"), req))
            agreed += int(agree(found, best).all())
            total += 1
    report(lines, f"makespan n<=10: ILP = exhaustive ({total}, relay + direct)", f"{agreed}/{total}", "100 %",
           "met" if agreed == total else "MISSED")
    for n, count in counts.items():
        requests = [instance(n, seed, topology="direct") for seed in range(count)]
        start = time.perf_counter()
        latency_best = [G.latency(req, G.IntegerProgram().decide(req))[0] for req in requests]
        middle = time.perf_counter()
        found = [G.makespan(req, G.IntegerProgram(objective="makespan").decide(req))[0] for req in requests]
        end = time.perf_counter()
        report(lines, f"makespan direct n={n}: ILP instances/s (1 core, {count} DAGs)", f"{count / (end - middle):,.1f}",
               f"latency ILP: {count / (middle - start):,.1f}/s")
        ratio = np.array(found) / np.array(latency_best)
        report(lines, f"makespan direct n={n}: optimal makespan / optimal latency", f"median {np.median(ratio):.2f}",
               f"range {ratio.min():.2f}-{ratio.max():.2f}")
    return agreed == total


def describe_misses(lines: list, label: str, missed: int, excess: np.ndarray) -> None:
    share = missed / len(excess)
    worse = excess[excess > RTOL]
    detail = (f"mean {worse.mean():.2%}, median {np.median(worse):.2%}, max {worse.max():.2%} worse"
              if len(worse) else "never worse")
    report(lines, f"{label}: min-cut (relay prices) misses", f"{missed}/{len(excess)} = {share:.1%}", detail)
    report(lines, f"{label}: min-cut mean excess over all instances", f"{excess.clip(0).mean():.3%}")


def pulp_program(requests: list, form: str, time_limit: float) -> tuple[list, float, str]:
    """Solve ``requests`` (one request each, any structures) in ONE PuLP model, ``form`` "weak"
    (y_ab >= x_ua + x_vb - 1, y >= 0, off-diagonal y only) or "marginal"; CBC's default switches.

    Returns (placements per request, seconds, CBC status).
    """
    start = time.perf_counter()
    model = pulp.LpProblem(form, pulp.LpMinimize)
    terms, xs = [], []
    for k, req in enumerate(requests):
        unary, pairwise = G.cost_terms(req)
        unary, pairwise = G.IntegerProgram.scaled(unary, pairwise, req.graph.edges, 1000.0)
        n = req.num_nodes
        x = {(v, a): pulp.LpVariable(f"x_{k}_{v}_{a}", cat=pulp.LpBinary) for v in range(n) for a in range(3)}
        xs.append(x)
        terms += [(x[v, a], float(unary[0, v, a])) for v in range(n) for a in range(3)]
        for v in range(n):
            model += pulp.lpSum(x[v, a] for a in range(3)) == 1
        for e, (u, v) in enumerate(req.graph.edges.tolist()):
            y = {(a, b): pulp.LpVariable(f"y_{k}_{e}_{a}_{b}", lowBound=0) for a in range(3) for b in range(3)
                 if form == "marginal" or a != b}
            terms += [(y[a, b], float(pairwise[0, e, a, b])) for (a, b) in y]
            if form == "weak":
                for (a, b), var in y.items():
                    model += var >= x[u, a] + x[v, b] - 1
            else:
                for a in range(3):
                    model += pulp.lpSum(y[a, b] for b in range(3)) == x[u, a]
                    model += pulp.lpSum(y[b, a] for b in range(3)) == x[v, a]
    model.setObjective(pulp.LpAffineExpression(terms))
    status = pulp.LpStatus[model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))]
    placements = [np.array([[max(range(3), key=lambda a: x[v, a].varValue or 0.0) for v in range(req.num_nodes)]])
                  for x, req in zip(xs, requests)]
    return placements, time.perf_counter() - start, status


def weak_form(count: int, n: int, lines: list, time_limit: float = 300.0) -> None:
    """The weak linearisation against the marginal form: each instance alone, then all in one model."""
    requests = [instance(n, 777 + seed, topology="direct") for seed in range(count)]
    reference = np.concatenate([G.latency(req, G.IntegerProgram().decide(req)) for req in requests])
    for form in ("weak", "marginal"):
        for together in (False, True):
            groups = [requests] if together else [[req] for req in requests]
            placements, seconds, statuses = [], 0.0, set()
            for group in groups:
                found, spent, status = pulp_program(group, form, time_limit)
                placements += found
                seconds += spent
                statuses.add(status)
            costs = np.concatenate([G.latency(req, x) for req, x in zip(requests, placements)])
            how = f"all {count} in one model" if together else "one model each"
            report(lines, f"direct n={n}: {form} ILP (PuLP, CBC defaults), {how}",
                   f"{seconds / count:.3f} s/inst", f"status {'/'.join(sorted(statuses))}",
                   f"{int(agree(costs, reference).sum())}/{count} = shipped ILP")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="every count divided by 10")
    parser.add_argument("--weak", action="store_true", help="also time the weak linearisation (n = 20)")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    lines = []
    print(f"{'what':<58s} {'measured':>24s}  {'target':<26s} verdict", flush=True)
    start = time.perf_counter()
    ok = small_relay(2000 // scale, lines)
    large_ok, rates = large_relay((20, 50, 100), 500 // scale, lines)
    ok &= large_ok
    speedup = rates[50]["mincut"] / rates[50]["ilp"]
    report(lines, "relay n=50: min-cut / ILP speed", f"{speedup:,.0f}x", ">= 50x", "met" if speedup >= 50 else "MISSED")
    mincut_batched(50, 10000 // scale, lines)
    ok &= direct(10, (20, 50, 100), 1000 // scale, 200 // scale, lines)
    ok &= makespan(250 // scale, {20: 100 // scale, 100: 20 // scale}, lines)
    if args.weak:
        weak_form(20, 20, lines)
        weak_form(100, 20, lines)
    print(f"\ntotal {time.perf_counter() - start:.0f} s; python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, cores allowed {len(os.sched_getaffinity(0))}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
