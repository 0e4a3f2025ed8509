"""The machine a run measures on: CPU, threads, load, software versions, peak arithmetic rate.

:func:`machine_info` and :func:`describe_machine` describe the machine beside every
timing (and on the Status page); :func:`versions` lists package versions;
:func:`peak_flops` measures the CPU's peak FLOP/s, from which :func:`floor_us` gives the
least time a decision of a given operation count can take (the physical floor).
"""

from __future__ import annotations

import os
import platform
import time
from importlib.metadata import PackageNotFoundError, version as package_version

import numpy as np

from ..checks import check_count
from ..threads import limited_threads

#: Packages whose versions the Status page lists.
STATUS_PACKAGES = ("kdoffload", "numpy", "pandas", "torch", "pulp", "scikit-learn", "seaborn", "matplotlib",
                   "papermill", "jupyter-book", "myst-nb", "nbval")


def _cpuinfo() -> dict[str, str | int]:
    """CPU model, logical CPUs and physical cores from /proc/cpuinfo (Linux), else platform."""
    info: dict[str, str | int] = {"model": platform.processor() or platform.machine(),
                                  "logical_cpus": os.cpu_count() or 0}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            blocks = [block for block in handle.read().split("\n\n") if block.strip()]
    except OSError:
        return info
    processors = []
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        processors.append(fields)
    if processors:
        info["model"] = processors[0].get("model name", info["model"])
        info["logical_cpus"] = len(processors)
        info["physical_cores"] = len({(p.get("physical id", "0"), p.get("core id", str(i)))
                                      for i, p in enumerate(processors)})
    return info


def _version(name: str) -> str:
    try:
        return package_version(name)
    except PackageNotFoundError:
        return "not installed"


def versions(packages=STATUS_PACKAGES) -> dict[str, str]:
    """Installed version of each package (``"not installed"`` if missing), Python first."""
    return {"python": platform.python_version(), **{name: _version(name) for name in packages}}


def blas_threads() -> int | None:
    """Threads of the BLAS under numpy (None if threadpoolctl is unavailable)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    counts = [entry["num_threads"] for entry in threadpool_info() if entry.get("user_api") == "blas"]
    return max(counts) if counts else None


def machine_info() -> dict:
    """The machine as a dict: CPU model, cores, logical CPUs, threads in use, load, the
    platform and the versions of Python, numpy, torch, PuLP and kdoffload."""
    import torch

    cpu = _cpuinfo()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        affinity = os.cpu_count()
    return {
        "cpu": cpu.get("model"),
        "logical_cpus": cpu.get("logical_cpus", os.cpu_count()),
        "physical_cores": cpu.get("physical_cores"),
        "cpus_available": affinity,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "blas_threads": blas_threads(),
        "load_average_1min": round(load[0], 2),
        "platform": platform.platform(),
        **versions(("numpy", "torch", "pulp", "kdoffload")),
    }


def describe_machine(info: dict) -> str:
    """One line describing ``info`` (from :func:`machine_info`)."""
    return (
        f"{info['cpu']}, {info['physical_cores']} cores / {info['logical_cpus']} logical CPUs "
        f"({info['cpus_available']} available); threads: torch {info['torch_threads']}, "
        f"BLAS {info['blas_threads']}; load average (1 min) {info['load_average_1min']}; "
        f"{info['platform']}; Python {info['python']}, numpy {info['numpy']}, torch {info['torch']}, "
        f"PuLP {info['pulp']}, kdoffload {info['kdoffload']}"
    )


def peak_flops(size: int = 1024, repeats: int = 10, threads: int | None = 1) -> dict:
    """This CPU's measured peak arithmetic rate: FLOP/s of a ``size`` x ``size`` matrix
    product (``2 size^3`` operations) in float64 and in float32, the fastest of ``repeats``
    products after one untimed, on ``threads`` BLAS threads (default 1, as the timings)."""
    size = check_count("size", size)
    repeats = check_count("repeats", repeats)
    rng = np.random.default_rng(0)
    result = {"size": size, "repeats": repeats, "threads": threads,
              "method": f"numpy.matmul of two {size}x{size} matrices, 2*size^3 FLOP, fastest of {repeats}"}
    with limited_threads(threads):
        for dtype in ("float64", "float32"):
            a = rng.standard_normal((size, size)).astype(dtype)
            b = rng.standard_normal((size, size)).astype(dtype)
            out = np.empty_like(a)
            np.matmul(a, b, out=out)
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                np.matmul(a, b, out=out)
                best = min(best, time.perf_counter() - start)
            result[dtype] = 2.0 * size ** 3 / best
    return result


def combine_peaks(samples: list[dict]) -> dict:
    """The highest rate of several :func:`peak_flops` samples, per precision, with every sample
    kept: load from other processes only ever lowers a sample, so the maximum is the best
    estimate of what the CPU can do."""
    if not samples:
        return {}
    combined = dict(samples[0])
    for dtype in ("float64", "float32"):
        combined[f"{dtype}_samples"] = [sample[dtype] for sample in samples]
        combined[dtype] = max(combined[f"{dtype}_samples"])
    combined["samples"] = len(samples)
    combined["method"] = f"{samples[0]['method']}; the highest of {len(samples)} samples taken over the run"
    return combined


def floor_us(ops: dict | None, peak: dict | None) -> float:
    """Microseconds one decision of ``ops`` operations (:func:`kdoffload.lean_policies.operations`)
    takes at the peak rate of its precision (:func:`peak_flops`): 0 without arithmetic, NaN
    if not counted (the integer program) or without a peak."""
    if not ops or not peak:
        return float("nan")
    if not ops.get("total"):
        return 0.0
    rate = peak.get(ops.get("dtype") or "float64")
    return float(ops["total"]) / rate * 1e6 if rate else float("nan")
