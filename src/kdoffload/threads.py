"""The one place that sets how many CPU threads torch and the BLAS under numpy use.

Training, timing and the chapters all fix their thread counts here: the same seed and
thread count give the same weights and decisions, and timings on a shared 2-core
machine are not distorted by threads waiting for a core. torch is imported only when a
thread count is set.
"""

from __future__ import annotations

import contextlib

from .checks import check_count


def set_torch_threads(threads: int) -> int:
    """``torch.set_num_threads(threads)``; returns the previous count."""
    import torch

    threads = check_count("threads", threads)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    return previous


@contextlib.contextmanager
def limited_threads(threads: int | None = 1, blas: bool = True):
    """Run the block with ``threads`` torch threads and, with ``blas``, as many BLAS threads
    (numpy's, through threadpoolctl); restore the old counts after. None: leave both as they are."""
    if threads is None:
        yield
        return
    previous = set_torch_threads(threads)
    try:
        if blas:
            from threadpoolctl import threadpool_limits  # installed with scikit-learn

            with threadpool_limits(limits=threads):
                yield
        else:
            yield
    finally:
        set_torch_threads(previous)
