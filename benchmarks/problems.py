"""The benchmark problems, built as scnn builds them (../shared/MATH.md section 12).

Each problem is the gated ReLU group lasso that scnn's ``ConvexGatedReLU`` +
``NeuronGL1(1e-3)`` + ``RFISTA`` solves with ``unitize_data=True`` and bias:

1. training rows ``[X, 1]``, every column scaled to unit norm (zero columns stay zero);
2. gates ``np.random.default_rng(778).standard_normal((d, 500))`` with a zero bias entry;
3. patterns ``1[X_u g > 0]`` (strict), de-duplicated;
4. objective ``||Y - F||^2 / (2 n c) + lam * sum_{neuron, output} ||W||``.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

LAM = 1e-3
N_GATES = 500
GATE_SEED = 778


@dataclass
class Problem:
    name: str
    task: str            # "binary", "multiclass" or "regression"
    X_train: np.ndarray  # standardized features, no bias column
    X_test: np.ndarray
    Y_train: np.ndarray  # (n, c) targets as scnn takes them (+-1, one-hot or real)
    Y_test: np.ndarray
    y_test: np.ndarray   # labels (classification) or targets (regression) for scoring

    @property
    def gates(self):
        """scnn's gates for this problem: ``sample_gate_vectors(778, d, 500)``."""
        d = self.X_train.shape[1]
        return np.random.default_rng(GATE_SEED).standard_normal((d, N_GATES))

    def unitized(self):
        """``([X_train, 1] / norms, [X_test, 1] / norms, gates with a zero bias row)``."""
        Xa = np.hstack([self.X_train, np.ones((len(self.X_train), 1))])
        norms = np.linalg.norm(Xa, axis=0)
        norms[norms == 0] = 1.0
        Xt = np.hstack([self.X_test, np.ones((len(self.X_test), 1))])
        gates = np.vstack([self.gates, np.zeros((1, N_GATES))])
        return Xa / norms, Xt / norms, gates

    def score(self, F_test):
        """Accuracy (classification) or R^2 (regression) of outputs ``F_test``."""
        F_test = np.asarray(F_test).reshape(len(self.y_test), -1)
        if self.task == "binary":
            return float(np.mean((F_test[:, 0] > 0).astype(int) == self.y_test))
        if self.task == "multiclass":
            return float(np.mean(F_test.argmax(axis=1) == self.y_test))
        resid = F_test[:, 0] - self.y_test
        return float(1 - resid @ resid / np.sum((self.y_test - self.y_test.mean()) ** 2))


def _split_standardize(X, y, stratify):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y if stratify else None)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = _split_standardize(X, y, stratify=True)
    return Problem("breast_cancer", "binary", X_train, X_test,
                   (2.0 * y_train - 1)[:, None], (2.0 * y_test - 1)[:, None], y_test)


def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = _split_standardize(X, y, stratify=True)
    eye = np.eye(10)
    return Problem("digits", "multiclass", X_train, X_test, eye[y_train], eye[y_test],
                   y_test)


def synthetic(n_samples=5000, n_features=50, n_hidden=10, noise=0.1, seed=0):
    """Regression on a planted ReLU network.

    ``X ~ N(0, I)``, ``y = relu(X W) v + noise * N(0, 1)`` with ``W ~ N(0, 1/d)`` (d x 10)
    and ``v ~ N(0, 1)``, then ``y`` standardized; 70/30 split, features standardized on
    the training part. (MATH.md gives this problem's certified optimum for a generator it
    does not spell out; this one is ours, and RESULTS.md certifies its optimum.)
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    W = rng.standard_normal((n_features, n_hidden)) / np.sqrt(n_features)
    v = rng.standard_normal(n_hidden)
    y = np.maximum(X @ W, 0) @ v + noise * rng.standard_normal(n_samples)
    y = (y - y.mean()) / y.std()
    X_train, X_test, y_train, y_test = _split_standardize(X, y, stratify=False)
    return Problem("synthetic", "regression", X_train, X_test, y_train[:, None],
                   y_test[:, None], y_test)


PROBLEMS = {"breast_cancer": breast_cancer, "digits": digits, "synthetic": synthetic}
