"""Residual stages (`--set stages=K`): after the first network, each stage trains a new one on what the stages
before it left (Wang & Lai 2024, multi-stage neural networks).

Stage k's members see the same encoded inputs; a member's target is (t − the sum of its kept stages) / s, with s
that residual's root mean square on its training pool, so every stage trains on a target of unit size, with
its own Adam steps, polish and rollback (bench.train.fit_ensemble). It is scored on validation as the sum, and
a member keeps a stage only while that lowers its validation error; after the first stage it does not keep, it
stops. A later stage's first layer starts `stage_scale` times wider, so that it can follow the residual's
higher frequencies. Stages are summed in float64.
"""

from dataclasses import dataclass, replace

import torch

from bench.data import derive_seed


class StagedMember:
    """A member's kept stages as one predictor of encoded targets: first(Z) + Σ scale_k · stage_k(Z), in float64.
    `single` and `features` are the first network's (what an export of one stage reads)."""

    def __init__(self, first, later=()):
        self.first, self.later = first, list(later)  # later: [(scale, one-member predictor)]
        self.single, self.features = first.single, first.features

    def __call__(self, Z):
        total = self.first(Z).double()
        for scale, stage in self.later:
            total = total + scale * stage(Z).double()
        return total


@dataclass
class StageScore:
    """A stage's validation scorer: its encoded predictions t, read as prediction + scale · t."""

    val_point: object
    prediction: torch.Tensor
    scale: float

    def __call__(self, t):
        return self.val_point(self.prediction + self.scale * t.double())


def add_stages(first, members, targets, config, seed, device, periodic, fit_ensemble, member_of):
    """Stages 2..config.stages for the members of the trained ensemble `first`: `targets` are the members' encoded
    training targets in float64, `fit_ensemble` and `member_of` bench.train's (which calls this module). Returns
    per member its StagedMember, its stages' reports ({stage, scale, kept, val_error, curve, kept_step, ...}) and
    the seconds its stages took."""
    staged = [StagedMember(member_of(first, m)) for m in range(len(members))]
    errors = [member.val_point(staged[m](member.Z_val))["val_error"] for m, member in enumerate(members)]
    reports, seconds = [[] for _ in members], [0.0] * len(members)
    active = [m for m, error in enumerate(errors) if error < float("inf")]
    for stage in range(2, config.stages + 1):
        if not active:
            break
        scales, scores, stage_members = [], [], []
        for m in active:
            member = members[m]
            residual = targets[m] - staged[m](member.Z_train)
            scale = float(residual.square().mean().sqrt().clamp_min(torch.finfo(torch.float64).tiny))
            scores.append(StageScore(member.val_point, staged[m](member.Z_val), scale))
            scales.append(scale)
            stage_members.append(replace(member, t_train=(residual / scale).to(member.Z_train.dtype),
                                         val_point=scores[-1], init_seed=derive_seed(member.init_seed, "stage", stage)))
        ensemble = fit_ensemble(stage_members, config, derive_seed(seed, "stage", stage), device, periodic,
                                config.stage_scale)
        still = []
        for j, m in enumerate(active):
            candidate = member_of(ensemble, j)
            error = scores[j](candidate(members[m].Z_val))["val_error"]
            kept = error < errors[m]
            report = ensemble.reports[j]
            reports[m].append({"stage": stage, "scale": scales[j], "kept": kept, "val_error": error,
                               "kept_step": report["kept_step"], "diverged_at_step": report["diverged_at_step"],
                               "curve": report["curve"]})
            seconds[m] += ensemble.throughput["train_seconds"]
            if kept:
                staged[m].later.append((scales[j], candidate))
                errors[m] = error
                still.append(m)
        active = still
    return [(staged[m], reports[m], seconds[m]) for m in range(len(members))]
