"""Douglas-Rachford splitting with Anderson acceleration, for lifted (matrix) programs.

For ``min h(L)`` over ``L`` in a closed convex cone ``K``, with the proximal map of ``h``
and the projection onto ``K`` cheap, the iteration on ``z`` (Lions & Mercier 1979;
Eckstein & Bertsekas 1992)

    x = prox_{h / rho}(z),   y = Pi_K(2x - z),   z <- z + y - x

converges to a fixed point with ``x = y`` optimal, and ``G = rho (z - x)`` (a
subgradient of ``h`` at ``x``, exactly) to a dual solution. The fixed-point residual
``x - y`` is extrapolated by type-II Anderson acceleration over the last ``memory``
iterates (Walker & Ni 2011; Zhang, O'Donoghue & Boyd 2020), accepted only where it
shrinks the residual (otherwise the plain step is taken and the memory cleared).

``rho`` stays fixed: balancing it on the ratio of the primal residual to the dual
infeasibility (as OSQP does) slowed the SDP relaxation down or made it diverge in
trials, and the program's own scale gives a good value.

The program supplies ``prox(z, rho)``, ``project_psd(w) -> (L, factor)``,
``objective(L)`` and ``dual_bound(G) -> (bound, mu)``; the bound must hold for any
``G`` (it is the certificate, checked every ``check_every`` iterations, and the largest
one met is returned).
"""

import time
from dataclasses import dataclass, field

import numpy as np

from .._progress import Progress

#: Iterations between certificates (each costs about one iteration more).
_CHECK_EVERY = 25


@dataclass
class DouglasRachfordState:
    """Where the splitting stopped: the best certified bound and the last iterate."""

    lower_bound: float
    objective: float
    primal_residual: float
    dual_infeasibility: float
    factor: np.ndarray
    n_iter: int
    converged: bool
    rho: float
    history: list = field(default_factory=list)


class _Anderson:
    """Type-II Anderson acceleration of a fixed-point map, with a bounded memory."""

    def __init__(self, memory, regularization=1e-10):
        self.memory = memory
        self.regularization = regularization
        self.clear()

    def clear(self):
        self._values, self._residuals = [], []

    def extrapolate(self, value, residual):
        """Record ``f(z)`` and ``f(z) - z``; return the extrapolated point or None."""
        self._values.append(value.ravel().copy())
        self._residuals.append(residual.ravel().copy())
        if len(self._values) > self.memory + 1:
            self._values.pop(0)
            self._residuals.pop(0)
        if len(self._values) < 3:
            return None
        dR = np.diff(np.asarray(self._residuals), axis=0)
        dF = np.diff(np.asarray(self._values), axis=0)
        gram = dR @ dR.T
        gram.flat[::len(gram) + 1] += self.regularization * max(np.trace(gram), 1e-300)
        try:
            gamma = np.linalg.solve(gram, dR @ self._residuals[-1])
        except np.linalg.LinAlgError:
            self.clear()
            return None
        return (self._values[-1] - gamma @ dF).reshape(value.shape)


def douglas_rachford(program, *, rho, tol, max_iter, time_limit=None, memory=8,
                     check_every=_CHECK_EVERY, verbose=0):
    """Run the splitting on ``program`` from ``z = 0``; return a
    :class:`DouglasRachfordState` with the largest certified bound met."""
    start = time.perf_counter()
    z = np.zeros((program.p, program.p))

    def step(z):
        x = program.prox(z, rho)
        y, factor = program.project_psd(2 * x - z)
        return z + y - x, x, y, factor

    anderson = _Anderson(memory)
    z_next, x, y, factor = step(z)
    best_bound, history = 0.0, []
    progress = Progress(verbose, max_iter, tol, label="sdp")
    objective = primal_residual = mu = gap = np.inf
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        residual = z_next - z
        residual_norm = np.linalg.norm(residual)
        candidate = anderson.extrapolate(z_next, residual)
        if candidate is not None:
            trial = step(candidate)
            if np.linalg.norm(trial[0] - candidate) < residual_norm:
                z, (z_next, x, y, factor) = candidate, trial
            else:
                anderson.clear()
                z = z_next
                z_next, x, y, factor = step(z)
        else:
            z = z_next
            z_next, x, y, factor = step(z)
        last = iteration == max_iter
        timed_out = time_limit is not None and time.perf_counter() - start > time_limit
        if iteration % check_every and not (last or timed_out):
            continue
        G = rho * (z - x)
        bound, mu = program.dual_bound(G)
        best_bound = max(best_bound, bound)
        objective = program.objective(x)
        primal_residual = np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-300)
        history.append(dict(iteration=iteration, lower_bound=best_bound,
                            objective=objective, primal_residual=primal_residual,
                            rho=rho, time=time.perf_counter() - start))
        gap = abs(objective - best_bound) / max(abs(objective), 1e-300)
        progress.update(iteration, objective, gap,
                        note=f"bound {best_bound:.8g}  residual {primal_residual:.1e}")
        if gap <= tol and primal_residual <= tol:
            converged = True
            break
        if timed_out:
            break
    progress.close(iteration, objective, gap, "converged" if converged else "stopped")
    return DouglasRachfordState(
        lower_bound=best_bound, objective=objective, primal_residual=primal_residual,
        dual_infeasibility=max(-mu, 0.0), factor=factor, n_iter=iteration,
        converged=converged, rho=rho, history=history)
