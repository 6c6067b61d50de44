"""`bench.EncodedMLPRegressor`: the benchmark's shared MLP with its encodings, as a scikit-learn regressor.

It is the very pipeline a sweep runs for an `mlp` cell (bench/protocol.py: encoders fitted on the training
rows, the ensemble engine with one member, validation for the kept step, the polish and the rollback), so on
the same rows and seed it predicts exactly what `python -m bench.run` scores. Use it in a `Pipeline`, with
`clone`, `cross_val_score` or `GridSearchCV`.
"""

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from bench.data import Data, derive_seed
from bench.protocol import decode, encode
from bench.train import TrainConfig, fit_members

MIN_ROWS = 4  # fewer rows cannot be split into training and validation rows


class EncodedMLPRegressor(RegressorMixin, BaseEstimator):
    """Input encoding → the shared MLP → inverse target encoding, trained as a benchmark run trains it.

    `encoding` is an input-encoding spec (`log`, `standard`, `edges+log`, ..., see `python -m bench.run --list`;
    `product` needs a target's declared products and is not available here), `target_encoding` a target
    encoding (`none`, `standard`, `asinh`, `quantile`). The training settings are TrainConfig's (README,
    "Sweeps"): `dtype="float64"` trains in double precision, `stages=K` adds residual stages (bench.stages).
    `fit(X, y, X_val, y_val)` keeps the weights of the lowest validation error; without validation
    rows, `validation_fraction` of the rows (drawn by `random_state`) are held out for it. `device`: `cpu`,
    `cuda[:N]` or `auto` (CUDA when present).
    """

    def __init__(self, encoding="log", target_encoding="asinh", steps=2000, batch_size=256, lr=3e-3,
                 weight_decay=0.0, schedule="cosine", width=64, depth=3, activation="silu", frequency_scale=0.01,
                 patience=0, eval_every=250, lbfgs_iters=0, lbfgs_rows=8192, lbfgs_patience=4, rollback=4.0,
                 dtype="float32", stages=1, stage_scale=1.0, validation_fraction=0.15, random_state=0, device="cpu"):
        self.encoding, self.target_encoding = encoding, target_encoding
        self.steps, self.batch_size, self.lr, self.weight_decay, self.schedule = steps, batch_size, lr, weight_decay, schedule
        self.width, self.depth, self.activation, self.frequency_scale = width, depth, activation, frequency_scale
        self.patience, self.eval_every, self.lbfgs_iters, self.lbfgs_rows = patience, eval_every, lbfgs_iters, lbfgs_rows
        self.lbfgs_patience, self.rollback = lbfgs_patience, rollback
        self.dtype, self.stages, self.stage_scale = dtype, stages, stage_scale
        self.validation_fraction, self.random_state, self.device = validation_fraction, random_state, device

    def _settings(self):
        """The TrainConfig fields of these parameters, as a sweep's `mlp` settings."""
        return {k: getattr(self, k) for k in TrainConfig.field_names() if hasattr(self, k)}

    def _device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def _tensor(self, X):
        return torch.tensor(np.asarray(X, dtype=np.float64), device=self._device())

    def fit(self, X, y, X_val=None, y_val=None):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction={self.validation_fraction}: must lie strictly between 0 and 1")
        if X_val is None:
            if len(y) < MIN_ROWS:
                raise ValueError(f"EncodedMLPRegressor needs at least {MIN_ROWS} samples to hold some out for "
                                 f"validation, got {len(y)} sample(s); pass X_val and y_val")
            order = np.random.default_rng(derive_seed(self.random_state, "validation")).permutation(len(y))
            held = max(1, round(self.validation_fraction * len(y)))
            X, y, X_val, y_val = X[order[held:]], y[order[held:]], X[order[:held]], y[order[:held]]
        else:
            X_val, y_val = validate_data(self, X_val, y_val, dtype=np.float64, y_numeric=True, reset=False)
        data = Data(*(self._tensor(a) for a in (X, y, X_val, y_val)), None, None, 0.0)
        split, _ = encode(None, data, self.encoding, self.target_encoding, tensors=True, cache={})
        [(self.member_, self.report_, _)] = fit_members([split], [{}], self._settings(), self.random_state,
                                                        self._device())
        self.input_encoder_, self.target_encoder_ = split.input_encoder, split.target_encoder
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        encoded = self.member_(self.input_encoder_.transform(self._tensor(X)))
        return decode(self.target_encoder_, encoded)
