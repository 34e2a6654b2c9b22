"""Row-block threads: how the kernels and BLAS share the CPU without fighting.

Every product a solver does touches the ``n`` data rows once: ``Z = X @ U`` folded by
the masks into the outputs, ``X^T B`` with ``B`` built from the masks and the residual.
:class:`RowWorkers` splits the rows into blocks and hands whole blocks to threads: each
thread runs the dense product of its block (BLAS, pinned to one thread) and the masked
kernel on it (Numba, ``nogil``) while the block is still in cache, and accumulates into
its own buffers. So

- kernels and BLAS never run their own thread pools at the same time (no
  oversubscription: ``n_jobs`` threads in all);
- the temporaries are ``block x m``, never ``n x m`` (``n`` can be millions);
- a busy core slows only the blocks it takes: threads pick the next block when they
  are done (dynamic scheduling) and wait without spinning, so a neighbour's load costs
  its share of the time, not a collapse (OpenBLAS's own threads busy-wait).
"""

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

#: Entries of one ``block x m`` temporary (float64: 1 MiB): the mask pass reads the
#: block's product while it is still in cache (measured: 4M-entry blocks made digits'
#: full-width FISTA iteration 1.6x its two GEMMs instead of 1.35x).
BLOCK_ENTRIES = 1 << 17
#: Fewest rows in a block: below this the per-block overhead dominates.
MIN_BLOCK_ROWS = 64
#: Blocks per thread when there are rows enough, so that a slowed thread hands work over.
BLOCKS_PER_THREAD = 2
#: Below this many ``n x m`` entries a product stays in the calling thread.
PARALLEL_MIN_ENTRIES = 1 << 17

_POOLS = {}
# A forked child inherits the dict but not the pools' threads: work submitted there
# would wait forever. Start the child with no pools.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOLS.clear)


def available_cpus():
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


_CONTROLLER = None


def _blas_controller():
    """The BLAS libraries' thread controls, found once per process (a scan of the loaded
    libraries costs milliseconds, too much to repeat for every fit)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController().select(user_api="blas")
    return _CONTROLLER


def _blas_threads():
    counts = [info["num_threads"] for info in _blas_controller().info()]
    return max(counts) if counts else None


def effective_n_threads(n_jobs):
    """Threads for ``n_jobs``, as scikit-learn counts them.

    ``None`` follows the BLAS library's current thread setting (so
    ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``threadpoolctl`` limits and the limits
    joblib sets in its worker processes all apply), capped by the CPUs available;
    ``-1`` is every available CPU, ``-2`` all but one, and so on.

    Raises
    ------
    ValueError
        If ``n_jobs == 0``.
    """
    cpus = available_cpus()
    if n_jobs is None:
        blas = _blas_threads()
        return max(1, min(cpus, blas if blas else cpus))
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, -1 or a positive count.")
    if n_jobs < 0:
        return max(1, cpus + 1 + int(n_jobs))
    return int(n_jobs)


@contextmanager
def row_workers(n_jobs):
    """:class:`RowWorkers` for ``n_jobs``, with BLAS pinned to one thread meanwhile.

    The thread count is read before BLAS is pinned; every product of the solve then
    runs on the returned workers, so ``n_jobs`` threads do all the work.
    """
    workers = RowWorkers(effective_n_threads(n_jobs))
    with _blas_controller().limit(limits=1):
        yield workers


def _pool(n_threads):
    pool = _POOLS.get(n_threads)
    if pool is None:
        pool = _POOLS[n_threads] = ThreadPoolExecutor(
            max_workers=n_threads - 1, thread_name_prefix="skconvexnn")
    return pool


class RowWorkers:
    """Runs a function over row blocks on ``n_threads`` threads (the caller included).

    Parameters
    ----------
    n_threads : int, default=1
        Threads in all. The caller's thread takes blocks too, so ``n_threads=1`` starts
        no thread.
    """

    def __init__(self, n_threads=1):
        self.n_threads = max(1, int(n_threads))

    def blocks(self, n_rows, width, work_width=None):
        """Block boundaries for a pass over ``n_rows`` rows.

        ``width`` columns of temporaries per row bound the block size; the pass is split
        over the threads when ``n_rows x work_width`` (default ``width``) entries are
        worth it.
        """
        work_width = width if work_width is None else work_width
        rows = max(MIN_BLOCK_ROWS, BLOCK_ENTRIES // max(1, width))
        if self.n_threads > 1 and n_rows * work_width >= PARALLEL_MIN_ENTRIES:
            share = -(-n_rows // (BLOCKS_PER_THREAD * self.n_threads))
            rows = max(MIN_BLOCK_ROWS, min(rows, share))
        rows = min(rows, max(1, n_rows))
        return [(start, min(start + rows, n_rows)) for start in range(0, n_rows, rows)]

    def slots(self, n_blocks):
        """How many threads a pass over ``n_blocks`` blocks uses (buffers per thread)."""
        return max(1, min(self.n_threads, n_blocks))

    def run(self, blocks, work):
        """Call ``work(start, stop, slot)`` once per block.

        ``slot`` (``0 <= slot < self.slots(len(blocks))``) names the thread, so ``work``
        can keep per-thread buffers and accumulators. Blocks are handed out in order,
        each to the first free thread. Exceptions are raised in the caller.
        """
        n_slots = self.slots(len(blocks))
        if n_slots == 1:
            for start, stop in blocks:
                work(start, stop, 0)
            return
        counter = itertools.count()

        def drain(slot):
            for index in counter:
                if index >= len(blocks):
                    return
                work(*blocks[index], slot)

        futures = [_pool(self.n_threads).submit(drain, slot) for slot in range(1, n_slots)]
        try:
            drain(0)
        finally:
            for future in futures:
                future.result()

    def matmul(self, X, U, dtype=np.float64):
        """``X @ U`` as a C-ordered ``dtype`` array, row blocks on the threads."""
        out = np.empty((X.shape[0], U.shape[1]), dtype=dtype)
        U = np.asarray(U, dtype=dtype)

        def work(start, stop, slot):
            out[start:stop] = X[start:stop] @ U

        self.run(self.blocks(X.shape[0], U.shape[1]), work)
        return out
