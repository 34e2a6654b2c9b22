"""One fit on a wide table (``make_classification``): time, test accuracy, certificate.

    python benchmarks/bench_wide.py N D {mlp,gated,relu,gated-admm,relu-admm} [N_PATTERNS]

``2 N`` rows of ``D`` features (20 informative), ``N`` to train and ``N`` to test,
standardized on the training rows; every model ``random_state=0``, MLP with
``max_iter=2000``; one BLAS thread. Peak memory is the process's peak resident set
(``getrusage``), data included. ``*-admm`` fits with ``solver="admm"``. ``bench_wide_grid.py`` runs a grid of these.
"""

import os
import resource
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skconvexnn import ConvexReLUClassifier, GatedReLUClassifier  # noqa: E402


def main(n, d, which, n_patterns=100):
    X, y = make_classification(n_samples=2 * n, n_features=d, n_informative=20,
                               random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=n,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = {"mlp": lambda: MLPClassifier(max_iter=2000, random_state=0),
             "gated": lambda: GatedReLUClassifier(n_patterns, random_state=0),
             "relu": lambda: ConvexReLUClassifier(n_patterns, random_state=0),
             "gated-admm": lambda: GatedReLUClassifier(n_patterns, solver="admm",
                                                       random_state=0),
             "relu-admm": lambda: ConvexReLUClassifier(n_patterns, solver="admm",
                                                       random_state=0)}[which]()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"{which} n={n} d={d}: fit {seconds:.1f} s, test accuracy "
          f"{model.score(X_test, y_test):.3f}, gap "
          f"{getattr(model, 'duality_gap_', float('nan')):.1e}, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, warnings "
          f"{[str(w.message)[:80] for w in caught]}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
         *(int(a) for a in sys.argv[4:5]))
