"""A benchmark of feature encodings for neural regression on formulas whose inputs span decades."""
