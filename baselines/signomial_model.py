"""`signomial`: the asker's network trained with the ladder's fixed recipe, then read back as a formula.

After training, the network is a list of terms c * prod |x_i|^w_i (baselines/signomial_terms.py). Terms whose
exponents nearly coincide are merged and the merged form is polished again by L-BFGS; negligible terms are
pruned, each form along the way refined by Levenberg-Marquardt; exponents are snapped to fractions with small
denominators and the coefficients refit by least squares. Each step is kept only when the validation error does
not get worse; the form kept, evaluated in float64, is what the test set scores, and `details` lists its terms and its formula.
"""

import time

import numpy as np
import sympy
import torch
from sympy.calculus.accumulationbounds import AccumBounds

from baselines.signomial import Fitted, Recipe, Rows, Signomial, fit, polish
from baselines.signomial_signs import FeatureView
from baselines.signomial_terms import ROUND_OFF, Terms, json_number, merge_close, prune, refine, refit, simple_number, snap
from bench.solution import solution_details
from bench.tabletarget import needs_formula


def nonzero_inputs(target):
    """`signomial`'s Model.accepts: None when no input is 0 in any row of a data file (the signomial then trains
    on its rows), or, for a formula, when sign_definite holds; else why not."""
    if target.formula is None:
        zeros = [name for name, column in zip(target.names, np.asarray(target.table.X).T) if not column.all()]
        return f"column {zeros[0]} holds 0; a signomial needs |x| > 0 (it fits log|x|)" if zeros else None
    return sign_definite(target)


def sign_definite(target):
    """None when no input of a formula can reach 0 (log|x| is finite and smooth); else why not. Inputs of both
    signs are taken: the sign rule (baselines/signomial_signs.py) carries their signs."""
    if refusal := needs_formula(target):
        return refusal
    ranges = {}
    for v in target.variables:
        low, high = (bound.subs(ranges) for bound in (v.low, v.high))
        low, high = (low.min if isinstance(low, AccumBounds) else low), (high.max if isinstance(high, AccumBounds) else high)
        if not bool(low > 0):
            return f"variable {v.name} can reach 0 (its low bound is {v.low}); a signomial needs |x| > 0 (it fits log|x|)"
        ranges[sympy.Symbol(v.name)] = AccumBounds(-high, high) if v.sign == "+-" else (
            AccumBounds(low, high) if v.sign == "+" else AccumBounds(-high, -low))
    return None


def network_terms(fitted):
    """The trained network as terms on |x|: one per hidden unit, and the output bias as a constant term."""
    A, b = fitted.net.exponents()
    mean, std = fitted.inputs.mean.double(), fitted.inputs.std.double()
    exponents = A / std
    weight, bias = fitted.net.fc1.weight.detach().double()[0], fitted.net.fc1.bias.detach().double()
    coefficients = fitted.loss.s * weight * torch.exp(b - exponents @ mean)
    return Terms(torch.cat([exponents, torch.zeros_like(exponents[:1])]).cpu().numpy(),
                 torch.cat([coefficients, fitted.loss.s * bias]).cpu().numpy())


def repolish(terms, fitted, data, recipe):
    """`terms` as a one-layer network on the same inputs and loss (no constant beyond the terms), polished by
    L-BFGS like the recipe's."""
    net = Signomial(len(fitted.inputs.mean), 1, len(terms.coefficients), 0).double().to(data.X_train.device)
    exponents, coefficients = (torch.from_numpy(a).to(data.X_train.device) for a in (terms.exponents, terms.coefficients))
    with torch.no_grad():
        net.sequential_layers[0].weight.copy_(exponents * fitted.inputs.std)
        net.sequential_layers[0].bias.copy_(exponents @ fitted.inputs.mean)
        net.fc1.weight.copy_(coefficients[None] / fitted.loss.s)
        net.fc1.bias.zero_()
    net.fc1.bias.requires_grad_(False)
    start = Fitted(net, fitted.inputs, fitted.loss, torch.float64)
    polished, _, _ = polish(start, data.X_train[: recipe.polish_size], data.y_train[: recipe.polish_size],
                            recipe.polish_iters)
    with_constant = network_terms(polished)
    return Terms(with_constant.exponents[:-1], with_constant.coefficients[:-1])


def read_formula(fitted, view, data, recipe, settings):
    """The form kept after merging, pruning and snapping (each kept only if validation does not get worse), and
    the details that describe it."""
    train, val = ((X.cpu().numpy(), y.cpu().numpy()) for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val)))
    log_centre = np.log(np.abs(train[0])).mean(axis=0)
    network = network_terms(fitted)
    tolerance = settings["prune_tolerance"]

    def polished(terms):
        return refine(repolish(terms, fitted, data, recipe), train[0][: recipe.polish_size], train[1][: recipe.polish_size])

    def least_squares(terms):
        return refit(terms.exponents, *train)

    merged = polished(merge_close(network, log_centre, settings["merge_distance"]))
    compact = prune(merged, polished, val, log_centre, tolerance)
    errors = {"network": network.score(*val), "compact": compact.score(*val)}
    kept = compact if errors["compact"] <= errors["network"] else network
    candidates = [prune(snap(kept, q, train), least_squares, val, log_centre, tolerance)
                  for q in range(1, settings["max_denominator"] + 1)]
    best = min(terms.score(*val) for terms in candidates)
    snapped = next(terms for terms in candidates if terms.score(*val) <= best * (1 + tolerance) + ROUND_OFF)
    errors["snapped"] = snapped.score(*val)
    snap_kept = errors["snapped"] <= min(errors["network"], errors["compact"]) + ROUND_OFF
    final = snapped if snap_kept else kept
    found = view.expression(final, simple_number)
    check = solution_details(found, view.target) if view.target.formula is not None else {
        "symbolic_solution": None, "symbolic_solution_note": "a data file has no formula to check against"}
    details = {"formula": str(found), "symbolic_solution": check["symbolic_solution"],
               "symbolic_solution_note": check["symbolic_solution_note"],
               "sign_rule": [view.names[i] for i in view.rule] if view.rule_found else None,
               "snapped": bool(snap_kept), "terms": kept.as_json(view.names), "snapped_terms": snapped.as_json(view.names),
               "val_error": {name: json_number(error) for name, error in errors.items()}}
    return final, details


class SignomialModel:
    """`signomial` as the protocol's estimator, on raw or diff inputs and y: find the sign rule, train with the
    recipe in `settings` on the features' magnitudes, then read the formula; `predict` evaluates the form kept
    (the network itself if training diverged) times the sign rule."""

    def __init__(self, settings, context):
        self.settings, self.context = settings, context

    def fit(self, X, y, X_val, y_val):
        c, settings = self.context, self.settings
        view = FeatureView(c.target, c.split.input_encoder, X.cpu().numpy(), y.cpu().numpy())
        recipe = Recipe.from_settings(settings)
        rows = Rows(X.abs(), y * view.signs(X), X_val.abs(), y_val * view.signs(X_val))
        fitted, curve, seconds, samples, diverged_at = fit(recipe, view, c.seed, rows, settings, c.device)
        self.view_, self.fitted_, self.form_, details = view, fitted, None, None
        if diverged_at is None:
            tick = time.perf_counter()
            self.form_, details = read_formula(fitted, view, rows, recipe, settings)
            seconds += time.perf_counter() - tick
        self.report_ = {"curve": curve, "diverged_at_step": diverged_at, "last_step": curve[-1]["step"] if curve else None,
                        "train_samples": samples, "train_seconds": seconds,
                        **({"details": details} if details is not None else {})}
        return self

    def predict(self, X):
        signs = self.view_.signs(X)
        if self.form_ is None:
            return self.fitted_.predict(X.abs()) * signs
        return torch.from_numpy(self.form_.predict(X.abs().cpu().numpy())).to(X.device) * signs
