"""From convex weights to the two-layer network they define, and that network's forward pass.

The gated convex model with groups per (pattern ``j``, output ``k``) is the network

    f_k(x) = sum_{active (j, k)} 1[x_aug . g_j >= 0] * (x . w1_jk + b1_jk) * w2_jk

with, for every non-zero block ``u = U[:, j, k]``, one hidden unit of input weights
``u / sqrt(||u||)`` (the last entry is the hidden bias ``b1`` when the model has an
intercept) and output weight ``sqrt(||u||)`` into output ``k`` only. Its weight decay
``(1/2)(||w1||^2 + w2^2) = ||u||`` is the group penalty, so the network's regularised
objective equals the convex one. The hidden units of a gated network switch on their
gate ``g_j``, not on the sign of their own pre-activation.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class TwoLayerNetwork:
    """Weights of a two-layer network in scikit-learn's MLP layout.

    Attributes
    ----------
    coefs : list of two ndarrays
        ``(n_features, n_hidden)`` input weights and ``(n_hidden, n_outputs)`` output
        weights, as ``MLPClassifier.coefs_``.
    intercepts : list of two ndarrays
        ``(n_hidden,)`` hidden biases and ``(n_outputs,)`` output biases (zero).
    hidden_pattern : ndarray of shape (n_hidden,)
        Index of the gate (column of ``gates``) that switches each hidden unit.
    """

    coefs: list
    intercepts: list
    hidden_pattern: np.ndarray


def gated_network(weights, fit_intercept):
    """The gated network of convex weights ``weights`` of shape (d_aug, P, c).

    Parameters
    ----------
    weights : ndarray of shape (n_features + fit_intercept, n_patterns, n_outputs)
    fit_intercept : bool
        Whether the last input coordinate is the constant 1.

    Returns
    -------
    TwoLayerNetwork
    """
    d_aug, n_patterns, n_outputs = weights.shape
    norms = np.sqrt(np.einsum("rjk,rjk->jk", weights, weights, dtype=np.float64))
    pattern, output = np.nonzero(norms > 0)
    scale = np.sqrt(norms[pattern, output])
    W1 = weights[:, pattern, output] / scale.astype(weights.dtype)
    W2 = np.zeros((len(pattern), n_outputs), dtype=weights.dtype)
    W2[np.arange(len(pattern)), output] = scale
    if fit_intercept:
        b1 = np.ascontiguousarray(W1[-1])
        W1 = W1[:-1]
    else:
        b1 = np.zeros(len(pattern), dtype=weights.dtype)
    b2 = np.zeros(n_outputs, dtype=weights.dtype)
    return TwoLayerNetwork(coefs=[np.ascontiguousarray(W1), W2], intercepts=[b1, b2],
                           hidden_pattern=pattern.astype(np.int64))


def gated_forward(X, X_aug, gates, network):
    """Output of the gated network on ``X`` (raw features) / ``X_aug`` (gate input).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    X_aug : {ndarray, sparse matrix} of shape (n_samples, n_features + fit_intercept)
        ``X`` with the intercept column, in which the gates are expressed.
    gates : ndarray of shape (n_features + fit_intercept, n_patterns)
    network : TwoLayerNetwork

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    W1, W2 = network.coefs
    b1, b2 = network.intercepts
    on = np.asarray(X_aug @ gates[:, network.hidden_pattern]) >= 0
    hidden = np.asarray(X @ W1) + b1
    hidden *= on
    return hidden @ W2 + b2
