"""Compiled kernels: pattern sampling and de-duplication (Cython), masked products and
the group prox (Numba). No scikit-learn imports here."""
