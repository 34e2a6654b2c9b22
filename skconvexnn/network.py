"""From convex weights to the two-layer network they define, and that network's forward pass.

**ReLU.** A solution ``(V, W)`` of the cone-constrained program is an ordinary ReLU
network (Pilanci & Ergen 2020): every non-zero ``v = V[:, j, k]`` gives a hidden unit
with input weights ``v / sqrt(||v||)`` and output weight ``+sqrt(||v||)`` into output
``k``, every non-zero ``w`` one with ``w / sqrt(||w||)`` and ``-sqrt(||w||)``. Because
``v`` lies in its activation cone, ``relu(X v) = D_j X v`` on the training rows, so the
network reproduces the convex model there, and its weight decay
``(1/2)(||w1||^2 + w2^2) = ||v||`` is the group penalty.

**Gated ReLU.** The gated convex model with groups per (pattern ``j``, output ``k``) is the network

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
from sklearn.utils.extmath import safe_sparse_dot


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


def _units(weights, sign, fit_intercept):
    """Hidden units of the non-zero blocks of ``weights`` (d_aug, P, c)."""
    n_outputs = weights.shape[2]
    norms = np.sqrt(np.einsum("rjk,rjk->jk", weights, weights, dtype=np.float64))
    pattern, output = np.nonzero(norms > 0)
    scale = np.sqrt(norms[pattern, output])
    W1 = weights[:, pattern, output] / scale.astype(weights.dtype)
    W2 = np.zeros((len(pattern), n_outputs), dtype=weights.dtype)
    W2[np.arange(len(pattern)), output] = sign * scale
    if fit_intercept:
        b1 = np.ascontiguousarray(W1[-1])
        W1 = W1[:-1]
    else:
        b1 = np.zeros(len(pattern), dtype=weights.dtype)
    return np.ascontiguousarray(W1), W2, b1, pattern.astype(np.int64)


def relu_network(weights, fit_intercept, output_bias=None):
    """The ReLU network of convex weights ``weights = [V, W]``, shape (2, d_aug, P, c).

    Parameters
    ----------
    weights : ndarray of shape (2, n_features + fit_intercept, n_patterns, n_outputs)
    fit_intercept : bool
        Whether the last input coordinate is the constant 1 (it becomes the hidden bias).
    output_bias : ndarray of shape (n_outputs,), default=None
        Output biases (zero when None).

    Returns
    -------
    TwoLayerNetwork
        ``hidden_pattern`` gives each unit's pattern (informative: a ReLU unit switches on
        its own pre-activation).
    """
    units = [_units(weights[0], 1.0, fit_intercept), _units(weights[1], -1.0, fit_intercept)]
    W1 = np.hstack([u[0] for u in units])
    W2 = np.vstack([u[1] for u in units])
    b1 = np.concatenate([u[2] for u in units])
    b2 = np.zeros(weights.shape[3], dtype=weights.dtype)
    if output_bias is not None:
        b2[...] = output_bias
    return TwoLayerNetwork(coefs=[W1, W2], intercepts=[b1, b2],
                           hidden_pattern=np.concatenate([u[3] for u in units]))


def relu_forward(X, network):
    """Output of the ReLU network on ``X`` (n_samples, n_outputs).

    The same arithmetic as ``MLPClassifier``'s forward pass, so a network exported with
    ``to_mlp`` predicts identically.
    """
    W1, W2 = network.coefs
    b1, b2 = network.intercepts
    hidden = safe_sparse_dot(X, W1)
    hidden += b1
    np.maximum(hidden, 0, out=hidden)
    out = safe_sparse_dot(hidden, W2)
    out += b2
    return out


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
    W1, W2, b1, pattern = _units(weights, 1.0, fit_intercept)
    b2 = np.zeros(weights.shape[2], dtype=weights.dtype)
    return TwoLayerNetwork(coefs=[W1, W2], intercepts=[b1, b2], hidden_pattern=pattern)


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


# --- three layers -------------------------------------------------------------------


def three_layer_gated_forward(X, X_aug, gates, second_gates, network):
    """Output of the three-layer gated network on ``X`` / ``X_aug`` (gate input).

    The unit of pair ``q = l * n_first + i`` (``network.hidden_pattern``) is switched
    on where both ``x_aug . g_i >= 0`` and ``(x_aug G)_+ . a_l >= 0``
    (:func:`skconvexnn.patterns.composite_scores`).

    Parameters
    ----------
    X, X_aug, network
        As in :func:`gated_forward`.
    gates : ndarray of shape (n_features + fit_intercept, n_first)
        First-layer gates ``G`` of the gate network.
    second_gates : ndarray of shape (n_first, n_second)
        Second-layer gates ``A``.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    W1, W2 = network.coefs
    b1, b2 = network.intercepts
    n_first = gates.shape[1]
    first = np.asarray(X_aug @ gates, dtype=np.float64)
    second = np.maximum(first, 0.0) @ second_gates
    pair = network.hidden_pattern
    on = np.minimum(first[:, pair % n_first], second[:, pair // n_first]) >= 0
    hidden = np.asarray(X @ W1) + b1
    hidden *= on
    return hidden @ W2 + b2


@dataclass
class ThreeLayerNetwork:
    """Weights of a network with two hidden ReLU layers, in scikit-learn's MLP layout.

    Attributes
    ----------
    coefs : list of three ndarrays
        ``(n_features, n_first)``, ``(n_first, n_second)`` and ``(n_second, n_outputs)``,
        as ``MLPClassifier(hidden_layer_sizes=(n_first, n_second)).coefs_``.
    intercepts : list of three ndarrays
        First-layer biases, second-layer biases (zero) and output biases.
    first_pattern : ndarray of shape (n_first,)
        First-layer activation pattern (column of the gates) of each first-layer unit.
    second_pattern : ndarray of shape (n_second,)
        Second-layer pattern (column of the second-layer gates) of each second-layer
        unit.
    """

    coefs: list
    intercepts: list
    first_pattern: np.ndarray
    second_pattern: np.ndarray


def three_layer_relu_network(weights, fit_intercept, output_bias=None):
    """The network of the three-layer ReLU program's weights.

    Every non-zero block ``(s, l, k)`` (second-layer sign ``s``, pattern ``l``, output
    ``k``) is a sub-network ``((X W_1)_+ w_2)_+ w_3``: with ``z_j = weights[s, sigma,
    l, :, i, k]`` its non-zero first-layer blocks and ``t = sum_j ||z_j||``, one
    first-layer unit ``z_j / sqrt(t ||z_j||)`` per block (so ``||W_1||_F = 1``), of
    second-layer weight ``sigma s sqrt(||z_j||)``, and the output weight ``s sqrt(t)``
    into output ``k``. It reproduces the convex model on the training rows (the cones
    keep every unit's pattern), and ``(1/2)(||w_2||^2 + w_3^2) = t``, the block's
    penalty.

    Parameters
    ----------
    weights : ndarray of shape (2, 2, n_second, n_features + fit_intercept, n_first, n_outputs)
        ``weights[s, sigma]``: second-layer sign ``+`` (``s = 0``) or ``-``, first-layer
        sign ``+`` (``sigma = 0``) or ``-``.
    fit_intercept : bool
        Whether the last input coordinate is the constant 1 (the first-layer bias).
    output_bias : ndarray of shape (n_outputs,), default=None

    Returns
    -------
    ThreeLayerNetwork
    """
    n_outputs = weights.shape[-1]
    dtype = weights.dtype
    norms = np.sqrt(np.einsum("abldik,abldik->ablik", weights, weights, dtype=np.float64))
    totals = norms.sum(axis=(1, 3))  # (s, l, k)
    blocks = np.argwhere(totals > 0)  # rows (s, l, k), in order
    block_of = {tuple(b): q for q, b in enumerate(blocks)}
    units = np.argwhere(norms > 0)  # rows (s, sigma, l, i, k)
    h1, h2 = len(units), len(blocks)
    W1 = np.empty((weights.shape[3], h1), dtype=dtype)
    W2 = np.zeros((h1, h2), dtype=dtype)
    W3 = np.zeros((h2, n_outputs), dtype=dtype)
    for q, (s, l, k) in enumerate(blocks):
        W3[q, k] = (1.0 - 2.0 * s) * np.sqrt(totals[s, l, k])
    for j, (s, sigma, l, i, k) in enumerate(units):
        norm, total = norms[s, sigma, l, i, k], totals[s, l, k]
        W1[:, j] = weights[s, sigma, l, :, i, k] / np.sqrt(total * norm)
        W2[j, block_of[(s, l, k)]] = (1.0 - 2.0 * sigma) * (1.0 - 2.0 * s) * np.sqrt(norm)
    if fit_intercept:
        b1 = np.ascontiguousarray(W1[-1])
        W1 = W1[:-1]
    else:
        b1 = np.zeros(h1, dtype=dtype)
    b3 = np.zeros(n_outputs, dtype=dtype)
    if output_bias is not None:
        b3[...] = output_bias
    return ThreeLayerNetwork(coefs=[np.ascontiguousarray(W1), W2, W3],
                             intercepts=[b1, np.zeros(h2, dtype=dtype), b3],
                             first_pattern=units[:, 3].astype(np.int64),
                             second_pattern=blocks[:, 1].astype(np.int64))


def three_layer_forward(X, network):
    """Output of a :class:`ThreeLayerNetwork` on ``X`` (n_samples, n_outputs), with the
    arithmetic of ``MLPClassifier``'s forward pass."""
    out = X
    last = len(network.coefs) - 1
    for layer, (W, b) in enumerate(zip(network.coefs, network.intercepts)):
        out = safe_sparse_dot(out, W)
        out += b
        if layer < last:
            np.maximum(out, 0, out=out)
    return out
