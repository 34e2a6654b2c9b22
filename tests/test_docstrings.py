"""The examples in the public docstrings run and print what they say."""

import doctest

import pytest

import skconvexnn.estimators._gated as gated
import skconvexnn.estimators._relu as relu
import skconvexnn.estimators._robust as robust
import skconvexnn.estimators._sdp as sdp
import skconvexnn.estimators._three_layer as three_layer
import skconvexnn.kernels as kernels
import skconvexnn.polish as polish


@pytest.mark.parametrize("module", [gated, relu, robust, sdp, three_layer, kernels, polish],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
