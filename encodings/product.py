"""`product`: the inputs plus the engineered products the target declares (the seed declares x3·x4)."""

import torch

from .base import Appending

FLOAT32_MAX = float(torch.finfo(torch.float32).max)


class Products(Appending):
    """Appends coefficient · Π x_j^p_j for each declared product; the inverse drops the added columns.

    `products` is [(name, coefficient, {column: power})], as `Target.product_exponents()` gives it.
    """

    def __init__(self, products=(), names=()):
        self.products = products
        self.names = names

    def _fit(self, X):
        if not self.products:
            raise ValueError("Products: the target declares no products; add products = [\"x3*x4\"] to it")
        last = max((column for _, _, powers in self.products for column in powers), default=-1)
        if last >= X.shape[1]:
            raise ValueError(f"Products: the products use column {last}, but X has {X.shape[1]} feature(s); "
                             "fit it on the target's inputs")

    def _transform(self, X):
        columns = []
        for _, coefficient, powers in self.products:
            value = torch.full_like(X[:, 0], coefficient)
            for column, power in powers.items():
                value = value * X[:, column] ** power
            columns.append(value)
        # 1/0 would be inf and 0**-1 NaN: keep every value finite, also once cast to float32
        extra = torch.nan_to_num(torch.stack(columns, dim=1), nan=0.0, posinf=FLOAT32_MAX, neginf=-FLOAT32_MAX)
        return torch.cat([X, extra], dim=1)

    def _declared(self):
        return self.names

    def _names_out(self, names):
        return names + [name for name, _, _ in self.products]
