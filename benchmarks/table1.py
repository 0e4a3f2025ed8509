"""Table 1 of the paper: inference delay per decision, batched and online, relative to Greedy.

Trains (or loads from the cache) the learned policies of ``--profile``, exports the
distilled student to a lean weight file, checks that it makes the torch student's
decisions on the whole test set, checks every policy's lean (per-request) form against its
vectorised reference on ``--check`` requirements (a disagreement stops the run, naming the
form and the count), measures this CPU's peak FLOP/s, then times every policy in both
forms with :mod:`kdoffload.timing` and prints the table beside the paper's ratios: per key,
the operations per decision, the time at the peak rate (the floor), µs per decision, the
ratio to Greedy's fastest form and to the floor in each regime, then which of the paper's
ratios are reachable. The JSON written to ``--out`` holds ``table1`` (the results file's
schema) and ``table1_details`` (every pass, the machine, the settings, the lean file's size
and check, every lean form's check, the operation counts, the peak rate, the statement).

    .venv/bin/python benchmarks/table1.py                       # paper profile, 1 thread
    .venv/bin/python benchmarks/table1.py --profile smoke --batched 2000 --online 200
    .venv/bin/python benchmarks/table1.py --record              # also into book/results/<profile>.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from kdoffload import experiments, registry
from kdoffload.timing import render, table1

HERE = Path(__file__).resolve().parent


def learned_models(profile: str, seed: int, data_seed: int, progress: bool | None) -> dict:
    """The learned policies Table 1 times, keyed by their Table 1 keys (``drl`` is the narrow DQN)."""
    options = {"train_profile": profile, "data_seed": data_seed, "progress": progress}
    return {timed.key: experiments.learned_policy(info.name, seed, **options)
            for info in registry.policies(family="learned") for timed in info.table1 if timed.form == "vectorised"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="paper", choices=["paper", "smoke"])
    parser.add_argument("--models-profile", default=None, choices=["paper", "smoke"],
                        help="profile the learned models are trained with (default: --profile); the "
                             "architectures, hence the timings, do not depend on it")
    parser.add_argument("--seed", type=int, default=0, help="training seed of the learned policies")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--input-seed", type=int, default=table1.INPUT_SEED, help="seed of the timing inputs")
    parser.add_argument("--batched", type=int, default=100_000, help="decisions in the batched regime")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--online", type=int, default=10_000, help="sequential single-request calls")
    parser.add_argument("--ilp-batched", type=int, default=table1.SLOW_COUNTS["optimal_ilp"]["batched"])
    parser.add_argument("--ilp-online", type=int, default=table1.SLOW_COUNTS["optimal_ilp"]["online"])
    parser.add_argument("--drl-batched", type=int, default=None, help="smaller count for DRL (default: all)")
    parser.add_argument("--drl-online", type=int, default=None)
    parser.add_argument("--check", type=int, default=table1.CHECK_DECISIONS,
                        help="requirements every lean form is checked on against its reference")
    parser.add_argument("--no-heuristics", action="store_true", help="leave Local, Edge, Cloud and Random out")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads while timing")
    parser.add_argument("--lean", type=Path, default=None, help="lean weight file (default benchmarks/results/)")
    parser.add_argument("--out", type=Path, default=None, help="JSON output (default benchmarks/results/)")
    parser.add_argument("--record", action="store_true", help="also record into book/results/<profile>.json")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    progress = False if args.quiet else None
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    lean_path = args.lean or results_dir / f"kd_dil_student_{args.profile}.kdlean"
    out = args.out or results_dir / f"table1_{args.profile}.json"

    start = time.perf_counter()
    models_profile = args.models_profile or args.profile
    models = learned_models(models_profile, args.seed, args.data_seed, progress)
    from kdoffload.train import datasets

    test = datasets(args.profile, args.data_seed)["test"].requirements
    counts = {"optimal_ilp": {"batched": args.ilp_batched, "online": args.ilp_online}}
    if args.drl_batched or args.drl_online:
        counts["drl"] = {key: value for key, value in (("batched", args.drl_batched), ("online", args.drl_online))
                         if value}
    run = table1.run_table1(models, test, lean_path, input_seed=args.input_seed, batched_decisions=args.batched,
                            batch_size=args.batch_size, online_decisions=args.online, counts=counts,
                            repeats=args.repeats, threads=args.threads, progress=progress,
                            check_decisions=args.check, heuristics=not args.no_heuristics)
    results = run.results()
    results["table1_details"]["profile"] = args.profile
    results["table1_details"]["models_profile"] = models_profile
    if results["table1_details"]["lean"]:
        results["table1_details"]["lean"]["test_set"] = f"kd.train.datasets({args.profile!r}, {args.data_seed})['test']"
    out.write_text(json.dumps(results, indent=1, default=float))

    forms = run.forms()
    columns = ["form", "ops_per_decision", "floor_us"] + [
        f"{regime}_{what}" for regime in ("batched", "online") for what in ("us", "vs_greedy", "x_floor")]
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_rows", 100):
        print(forms[columns].to_string(float_format=lambda x: f"{x:.4g}"))
    print()
    print("normalised by:", ", ".join(f"{regime} {run.report.normaliser(regime)}" for regime in run.table1()))
    from kdoffload.paper import TABLE1

    print("\nat equal implementation effort (each policy in its fastest form per regime):")
    print(render.table1_frame(run.equal_effort(), TABLE1).to_string(float_format=lambda x: f"{x:.4g}"))
    print()
    peak = run.peak
    if peak:
        print(f"peak (one thread, {peak['method']}): {peak['float64'] / 1e9:.1f} GFLOP/s float64, "
              f"{peak['float32'] / 1e9:.1f} GFLOP/s float32")
    checks = run.checks
    print("lean forms checked: " + "; ".join(
        f"{name} {c['disagreements']} of {c['checked']}" if c["method"] == "equality"
        else f"{name} by distribution (min p {c['p_value_min']:.2g}, seeded {c['seeded_equality']})"
        for name, c in checks.items()))
    print()
    print(run.paper_statement())
    print()
    print("machine:", run.report.machine_line)
    lean = run.lean
    if lean:
        print(f"lean student: {lean['file_bytes']} bytes, {lean['parameters']} parameters; "
              f"{lean['disagreements']} of {lean['test_decisions']} test decisions differ from torch "
              f"(online check: {lean['online_disagreements']} of {lean['online_checked']}); "
              f"the torch student makes {lean['distinct_decisions']} distinct decisions")
    print(f"written {out} in {time.perf_counter() - start:.0f} s")
    if args.record:
        from kdoffload import report

        root = HERE.parent / "book" / "results"
        report.record(args.profile, results, root=root)
        print(f"recorded in {report.results_path(args.profile, root)}")
    return 0 if not lean or lean["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
