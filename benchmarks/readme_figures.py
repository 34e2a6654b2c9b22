"""Draw the figures the README shows (docs/images/), from a CV fit on breast_cancer.

    OPENBLAS_NUM_THREADS=1 python benchmarks/readme_figures.py
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skconvexnn import ConvexReLUClassifierCV  # noqa: E402
from skconvexnn.plotting import ConvergenceDisplay, PathDisplay  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join("docs", "images"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), ConvexReLUClassifierCV(random_state=0))
    model.fit(X, y)
    search = model[-1]
    print(f"alpha_={search.alpha_:.3g} best_score_={search.best_score_:.4f} "
          f"n_neurons_={search.n_neurons_} duality_gap_={search.duality_gap_:.2e}")
    for name, display in [("path_breast_cancer.png", PathDisplay.from_estimator(model)),
                          ("convergence_breast_cancer.png",
                           ConvergenceDisplay.from_estimator(model))]:
        display.figure_.savefig(os.path.join(args.out, name), dpi=80)
        plt.close(display.figure_)
        print("wrote", os.path.join(args.out, name))


if __name__ == "__main__":
    main()
