"""The group penalty of the gated program and its proximal operator.

``alpha * sum_g ||U_g||_2`` with one group per column of ``U`` (a (pattern, output)
pair, as scnn's ``NeuronGL1``). Its prox is group soft-thresholding; its dual norm,
``max_g ||G_g||_2 / alpha``, decides whether a dual point is feasible.
"""


class GroupL2:
    """``alpha * sum_w ||U[:, w]||_2`` over the columns of ``U``.

    Parameters
    ----------
    alpha : float
        Regularization strength, ``>= 0``.
    kernels : namespace
        Backend kernels (:func:`skconvexnn.backends.get_backend`).
    """

    def __init__(self, alpha, kernels):
        self.alpha = float(alpha)
        self.kernels = kernels

    def value_from_norms(self, norms):
        """Penalty value given the column norms."""
        return self.alpha * float(norms.sum())

    def value(self, U):
        return self.value_from_norms(self.kernels.group_norms(U))

    def prox(self, V, step, out):
        """``out = argmin_U ||U - V||^2 / (2 step) + penalty(U)``; returns its column norms."""
        return self.kernels.group_soft_threshold(V, step * self.alpha, out)

    def dual_scaling(self, gradient_norms):
        """Largest ``kappa <= 1`` that makes ``-kappa * grad`` dual feasible.

        Feasibility is ``||A_g^T Theta|| <= alpha`` for every group ``g``.
        """
        largest = float(gradient_norms.max()) if gradient_norms.size else 0.0
        if largest <= self.alpha:
            return 1.0
        return self.alpha / largest
