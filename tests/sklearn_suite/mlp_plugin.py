"""A pytest plugin: scikit-learn's own MLP tests, run against skconvexnn's classes.

``pytest --pyargs sklearn.neural_network.tests.test_mlp -p mlp_plugin`` (with this
folder on ``PYTHONPATH``) runs the tests shipped in the installed scikit-learn, not a
copy, with ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` rebound to
:mod:`skconvexnn.neural_network`'s before the test module imports them (that is all
"changing the import line" does). Tests that exercise what a convex solver cannot
have are marked as expected failures, strictly (one that starts passing fails the
run), each with its reason: :data:`INAPPLICABLE`, which the README lists.
"""

import pytest
import sklearn.neural_network

from skconvexnn import neural_network

#: Test functions of ``test_mlp.py`` that cannot apply, and why.
INAPPLICABLE = {
    "test_fit": "sets SGD's internal state (velocities, learning_rate_) and checks one "
                "SGD step with logistic activations by hand",
    "test_gradient": "checks _loss_grad_lbfgs, the L-BFGS objective's gradient, for "
                     "identity, logistic and tanh activations",
    "test_lbfgs_classification": "loops over the identity, logistic and tanh "
                                 "activations (ReLU only here)",
    "test_lbfgs_regression": "loops over the identity, logistic and tanh activations",
    "test_lbfgs_classification_maxfun": "max_fun (L-BFGS function evaluations) and "
                                        "non-ReLU activations",
    "test_lbfgs_regression_maxfun": "max_fun (L-BFGS function evaluations) and "
                                    "non-ReLU activations",
    "test_learning_rate_warmstart": "reads SGD's learning-rate schedule (_optimizer)",
    "test_multilabel_classification": "logistic hidden activation (multilabel targets "
                                      "themselves are tested by "
                                      "test_predict_proba_multilabel)",
    "test_predict_proba_binary": "logistic hidden activation",
    "test_shuffle": "expects the order of SGD's mini-batches to change the weights; the "
                    "convex optimum does not depend on the order of the rows",
    "test_partial_fit_regression": "expects 100 partial_fit calls to reproduce "
                                   "fit(max_iter=100) to rtol=1e-7, i.e. one SGD epoch "
                                   "per call; partial_fit here restarts the solver on "
                                   "each batch",
    "test_adaptive_learning_rate": "reads SGD's adaptive learning rate (_optimizer)",
    "test_n_iter_no_change": "reads SGD's _no_improvement_count",
    "test_n_iter_no_change_inf": "reads SGD's _no_improvement_count",
    "test_mlp_diverging_loss": "identity activation, and expects SGD to diverge at "
                               "learning_rate_init=1",
    "test_mlp_vs_poisson_glm_equivalent": "identity activation (a linear network)",
}


def pytest_configure(config):
    sklearn.neural_network.MLPClassifier = neural_network.MLPClassifier
    sklearn.neural_network.MLPRegressor = neural_network.MLPRegressor


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = INAPPLICABLE.get(getattr(item, "originalname", item.name))
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
