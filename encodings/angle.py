"""`angle`: the inputs plus sin θ, cos θ, sin(θ/2) and cos(θ/2) for each input declared an angle.

A network on θ itself must learn a periodic function from a few periods of samples, and a pole at θ = 0 such as
1/sin⁴(θ/2) has no smooth form in θ or in log|θ|. On these columns the same terms are smooth, and `angle+log`
makes powers of them (1/sin⁴(θ/2), cos θ · r) linear. Angles are declared (a targets file's `angle = true`, a
data file's `--angles`), never guessed from a formula's text.
"""

import torch

from .base import Appending


class Angles(Appending):
    """Appends the periodic and half-angle features of the `columns` given (indices of angle inputs, in radians);
    the inverse drops the added columns."""

    def __init__(self, columns=(), names=()):
        self.columns = columns
        self.names = names

    def _fit(self, X):
        if not self.columns:
            raise ValueError("Angles: no input is declared an angle; add angle = true to a variable, or --angles")
        if max(self.columns) >= X.shape[1]:
            raise ValueError(f"Angles: column {max(self.columns)} is declared an angle, but X has {X.shape[1]} "
                             "feature(s); fit it on the target's inputs")

    def _transform(self, X):
        theta = X[:, list(self.columns)]
        return torch.cat([X, torch.sin(theta), torch.cos(theta), torch.sin(theta / 2), torch.cos(theta / 2)], dim=1)

    def _declared(self):
        return self.names

    def _names_out(self, names):
        angles = [names[i] for i in self.columns]
        return names + [f"{f}({a}{half})" for half in ("", "/2") for f in ("sin", "cos") for a in angles]
