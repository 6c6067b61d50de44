"""Baselines: scikit-learn regressors on every encoding, and the two recipes from the original question."""
