"""A benchmark of feature encodings for neural regression on formulas whose inputs span decades."""


def __getattr__(name):
    """`bench.EncodedMLPRegressor`, `bench.RecipeRegressor` and `bench.load` (an exported pipeline), imported on
    first use (they bring torch and the registry)."""
    if name == "EncodedMLPRegressor":
        from bench.estimator import EncodedMLPRegressor
        return EncodedMLPRegressor
    if name == "RecipeRegressor":
        from bench.recipe_estimator import RecipeRegressor
        return RecipeRegressor
    if name == "load":
        from bench.exported import load
        return load
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
