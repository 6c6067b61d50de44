"""Every encoder keeps scikit-learn's estimator contract on its numpy path: scikit-learn's own checks."""

import pytest
from bench.encodings import INPUT_ENCODINGS, TARGET_ENCODINGS
from sklearn.utils.estimator_checks import parametrize_with_checks

from bench.targets import parse_targets

# a small target that declares a product and an angle, so that `product` and `angle` build as in a sweep
TARGET = parse_targets('[targets.t]\nformula = "a*b"\nproducts = ["a*b"]\n[targets.t.variables]\n'
                       'a = { low = 1, high = 2, angle = true }\nb = { low = 1, high = 2 }\n', "t.toml")["t"]
ENCODERS = list({type(encoder): encoder for encoder in (encoding.build(TARGET) for encoding in
                                                          [*INPUT_ENCODINGS.values(), *TARGET_ENCODINGS.values()])}.values())


def test_every_registered_encoder_class_is_checked():
    assert {type(e).__name__ for e in ENCODERS} == {"Identity", "MinMax", "Standard", "SignedLog", "Asinh",
                                                     "Products", "Edges", "Differences", "Angles", "Quantile", "Power",
                                                     "PiecewiseLinear"}


# scikit-learn fits QuantileTransformer on fewer rows than its n_quantiles in these checks, and says so
@pytest.mark.filterwarnings("ignore:n_quantiles .* is greater than the total number of samples")
@parametrize_with_checks(ENCODERS)
def test_encoder_passes_scikit_learn_s_estimator_checks(estimator, check):
    check(estimator)
