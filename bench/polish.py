"""L-BFGS polish: after Adam, each ensemble member is refined by full-batch L-BFGS on a fixed slice of its pool.

Adam's gradient noise sets a floor on how precisely a network fits a smooth formula; a quasi-Newton method on
full batches goes below it (the Adam-then-L-BFGS habit of scientific machine learning; the asker's fixed
recipe uses it too). torch's L-BFGS shares one line search and one curvature history across all the
parameters it is given, which would couple the members, so each member is polished alone, as a one-member
copy of the ensemble: a member polished in an ensemble matches the same member polished alone. Validation
is scored every `eval_every` iterations; the member keeps its best weights, and polishing stops after
`patience` chunks in a row that do not improve on them (L-BFGS often climbs for a few hundred iterations
before it falls well below Adam's error), or when L-BFGS itself stalls.
"""

import copy
import math
import time

import torch


def member_copy(model, member):
    """A one-member EnsembleMLP holding a copy of `member`'s weights."""
    single = copy.deepcopy(model)
    single.input_widths = [model.input_widths[member]]
    with torch.no_grad():
        for tensor in list(single.parameters()) + list(single.buffers()):
            tensor.data = tensor.data[member: member + 1].clone()
    return single


def load_member(model, member, single):
    """Copy the one-member model's weights back into `member` of `model`."""
    with torch.no_grad():
        for p, q in zip(model.parameters(), single.parameters()):
            p[member: member + 1].copy_(q)


def polish_member(single, x, y, score, iterations, eval_every, start_error, patience=1):
    """Polish the one-member model `single` on inputs x (1, n, width) and encoded targets y (1, n), scoring it
    with `score(single)` (its validation error) every `eval_every` iterations, until `patience` chunks in a
    row do not improve. It ends with its best weights, Adam's included (`start_error`); returns the curve
    points [(iterations, seconds, loss evaluations, validation error)], the best point's iterations (0:
    Adam's weights kept) and its validation error. A non-finite validation error, or a chunk in which L-BFGS
    makes no iteration, ends it at once. The loss is the plain squared error: weight decay was Adam's
    regularizer, and validation guards the polish."""
    optimizer = torch.optim.LBFGS(single.parameters(), lr=1, max_iter=eval_every, history_size=50,
                                  tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")
    first = next(iter(single.parameters()))

    def closure():
        optimizer.zero_grad()
        loss = ((single(x) - y) ** 2).mean()
        loss.backward()
        return loss

    best_params, best_error, best_iterations = [p.detach().clone() for p in single.parameters()], start_error, 0
    points, seconds, done, stale = [], 0.0, 0, 0
    while done < iterations and stale < patience:
        optimizer.param_groups[0]["max_iter"] = min(eval_every, iterations - done)
        tick = time.perf_counter()
        optimizer.step(closure)
        seconds += time.perf_counter() - tick
        state = optimizer.state[first]
        progressed, done = state["n_iter"] - done, state["n_iter"]
        error = score(single)
        points.append((done, seconds, state["func_evals"], error))
        if error < best_error:
            best_error, best_iterations, stale = error, done, 0
            best_params = [p.detach().clone() for p in single.parameters()]
        else:
            stale += 1
        if progressed == 0 or not math.isfinite(error):
            break  # L-BFGS stalled on its own tolerances, or the weights stopped being finite
    with torch.no_grad():
        for p, kept in zip(single.parameters(), best_params):
            p.copy_(kept)
    return points, best_iterations, best_error
