"""Tuning: per pipeline (input encoding, target encoding, model), an Optuna search on the validation set.

The search uses the tuning split only: the training pool and validation set of TUNING_SEED, a seed no run
reports (runs take seeds 0..N-1), so every reported seed is a draw independent of the choice made for it. It
never draws a test set. Trials are asked in rounds; for the batched `mlp`, every trial of a round that shares
an architecture (width, depth, batch size) trains as one member of one ensemble, whatever its pipeline, each
member with its own learning rate, weight decay and frequency scale. With `shared_architecture`, a round's
trials all take one architecture, drawn by a search of its own (scored by the round's best error per pipeline,
on log10), so the round trains as one ensemble (two with periodic pipelines): a narrower search over
architectures, a wider batch. Other models fit one trial at a time. A finished search is stored in
<out>/tuning/ (plain JSON), so a rerun, or the same search at a longer final budget, reuses it.
"""

import json
import math
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import optuna
import torch
from tqdm.auto import tqdm

from bench.data import derive_seed
from bench.encodings import uses_periodic
from bench.protocol import validation_scores
from bench.records import config_key, write_json
from bench.registry import MODELS
from bench.space import describe, draw
from bench.train import MEMBER_SETTINGS, without_run_only

TUNING_SEED = -1  # the tuning split's seed: never one of a sweep's reported seeds 0..N-1
ROUND_SIZE = 8  # trials asked together per pipeline: the first round is random (TPE start-up), later ones TPE
SHARED = "shared per round"  # a search's `architecture` when its rounds share one


def search_key(target, model, pipeline, settings, space, trials, round_size, searched_with=None, device="cpu"):
    """What decides a search's outcome: hashed into its file name. `searched_with` (all the pipelines searched
    together) only for a shared-architecture search, whose rounds every pipeline's errors decide. The device
    type is part of it (left out for the CPU, as in searches made before it was): a CPU search is never reused
    by a GPU run, nor the other way round."""
    conditions = target.conditions.changed()
    device_type = torch.device(device).type
    return config_key({"target": target.definition(), "tuning_seed": TUNING_SEED,
                       **({"conditions": conditions} if conditions else {}),
                       **({"device_type": device_type} if device_type != "cpu" else {}),
                       "model": model, "pipeline": list(pipeline), "settings": settings, "space": describe(space),
                       "trials": trials, "round_size": round_size,
                       **({"architecture": SHARED, "searched_with": sorted(map(list, searched_with))}
                          if searched_with else {})})


def search_path(out, target, model, pipeline, key):
    return Path(out) / "tuning" / f"{target.name}_{model}_{pipeline[0]}_{pipeline[1]}_{key}.json"


def pipeline_space(space, encoding):
    """The entries of `space` that matter for this input encoding (frequency scale only with periodic)."""
    if callable(space):
        return space
    return {k: v for k, v in space.items() if k != "frequency_scale" or uses_periodic(encoding)}


def run_trials(target, model, asked, settings, device, batched=True, done=lambda count: None):
    """Validation errors of the asked trials [(pipeline, params)], in order; `done(k)` as k more finish. For the
    batched mlp, trials that share an architecture train as one ensemble (each its own member settings)."""
    settings = without_run_only(settings)  # trials never polish nor roll back
    groups = defaultdict(list)
    for i, ((encoding, _), params) in enumerate(asked):
        own = MEMBER_SETTINGS if MODELS[model].batched else ()
        architecture = tuple(sorted((k, v) for k, v in params.items() if k not in own))
        groups[uses_periodic(encoding), architecture, None if batched and MODELS[model].batched else i].append(i)
    scores = [None] * len(asked)
    for (_, architecture, _), indices in groups.items():
        cells = [(*asked[i][0], {k: v for k, v in asked[i][1].items() if k in MEMBER_SETTINGS}) for i in indices]
        if not MODELS[model].batched:
            cells = [cell[:2] for cell in cells]
        results = validation_scores(model, target, TUNING_SEED, cells, settings | dict(architecture), device)
        for i, score in zip(indices, results):
            scores[i] = score
        done(len(indices))
    return scores


def shares_architecture(model, space, requested):
    """Whether a search's rounds share one architecture: when asked, for a batched model with a plain space."""
    return requested and MODELS[model].batched and not callable(space)


def architecture_search(target, model, space):
    """The study that draws each round's shared architecture, and the part of `space` it searches."""
    architecture_space = {k: v for k, v in space.items() if k not in MEMBER_SETTINGS}
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(
        seed=derive_seed("tune", target.name, model, "architecture"), n_startup_trials=2))
    return study, architecture_space


def round_score(asked, scores, pipelines):
    """A shared architecture's score: the mean over pipelines of log10 of the round's best error (None: no
    pipeline finished)."""
    best = {p: min((e for (q, _), (e, _) in zip(asked, scores) if q == p), default=math.inf) for p in pipelines}
    finite = [math.log10(max(e, 1e-300)) for e in best.values() if e < math.inf]
    return sum(finite) / len(finite) if finite else None


def search(target, model, pipelines, settings, space, trials, device, round_size=ROUND_SIZE, batched=True, progress=True,
           shared_architecture=False):
    """Search each pipeline's settings; returns {pipeline: summary} with the best trial's params."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    studies = {p: optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(
        seed=derive_seed("tune", target.name, model, *p), n_startup_trials=min(round_size, trials),
        multivariate=True, constant_liar=True)) for p in pipelines}
    shared = shares_architecture(model, space, shared_architecture)
    if shared:
        architectures, architecture_space = architecture_search(target, model, space)
    history = {p: [] for p in pipelines}
    tick = time.perf_counter()
    with tqdm(total=trials * len(pipelines), unit="trial", desc=f"tuning {model} on {target.name}",
              disable=not progress) as bar:
        for start in range(0, trials, round_size):
            count = min(round_size, trials - start)
            if shared:
                architecture = architectures.ask()
                fixed = draw(architecture_space, architecture)
                for p in pipelines:
                    for _ in range(count):
                        studies[p].enqueue_trial(fixed)
            asked = [(p, studies[p].ask()) for p in pipelines for _ in range(count)]
            params = [draw(pipeline_space(space, p[0]), trial) for p, trial in asked]
            scores = run_trials(target, model, [(p, x) for (p, _), x in zip(asked, params)], settings, device, batched,
                                bar.update)
            for (p, trial), x, (error, kept_step) in zip(asked, params, scores):
                finite = error < float("inf")
                studies[p].tell(trial, error if finite else None,
                                state=optuna.trial.TrialState.COMPLETE if finite else optuna.trial.TrialState.FAIL)
                history[p].append({"trial": trial.number, "params": x, "val_error": error if finite else None,
                                   "kept_step": kept_step})
            if shared:
                score = round_score(asked, scores, pipelines)
                architectures.tell(architecture, score, state=optuna.trial.TrialState.COMPLETE if score is not None
                                   else optuna.trial.TrialState.FAIL)
    seconds = time.perf_counter() - tick
    summaries = {}
    for p, study in studies.items():
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        best = min(done, key=lambda t: t.value) if done else None
        summaries[p] = {"tuning_seed": TUNING_SEED, "trials": trials, "search_steps": settings.get("steps"),
                        "round_size": round_size,
                        "space": describe(pipeline_space(space, p[0])), "seconds": seconds / len(pipelines),
                        "best_trial": None if best is None else best.number,
                        "val_error": None if best is None else best.value,
                        "params": {} if best is None else history[p][best.number]["params"], "history": history[p],
                        **({"architecture": SHARED} if shared else {})}
    return summaries


def tuned_cells(cells, trials, search_steps, space, out, device, round_size=ROUND_SIZE, finalists=None, progress=True,
                run_missing=True, shared_architecture=False):
    """The cells with each tunable pipeline's settings replaced by its search's best (searches are run, or read
    from <out>/tuning); with `finalists`, only the best that many pipelines per (target, model) are kept.
    Without `run_missing`, None when a search is not stored yet."""
    groups = defaultdict(list)
    for cell in cells:
        groups[cell.target.name, cell.target.conditions, cell.model].append(cell)
    kept = []
    for (_, _, model), group in groups.items():
        model_space = MODELS[model].space
        if model_space is None:
            kept += group
            continue
        if not callable(model_space):
            model_space = {k: space.get(k, v) for k, v in model_space.items()}
        target = group[0].target
        settings = without_run_only(group[0].settings) | ({"steps": search_steps} if "steps" in group[0].settings else {})
        pipelines = list(dict.fromkeys((c.encoding, c.target_encoding) for c in group))
        shared = shares_architecture(model, model_space, shared_architecture)
        paths = {p: search_path(out, target, model, p, search_key(
            target, model, p, settings, pipeline_space(model_space, p[0]), trials, round_size,
            pipelines if shared else None, device)) for p in pipelines}
        summaries = {p: json.loads(path.read_text()) for p, path in paths.items() if path.exists()}
        missing = [p for p in pipelines if p not in summaries]
        if missing and not run_missing:
            return None
        if missing:
            missing = pipelines if shared else missing  # a shared search's rounds depend on every pipeline
            found = search(target, model, missing, settings, model_space, trials, device, round_size,
                           progress=progress, shared_architecture=shared)
            for p in missing:
                write_json(paths[p], found[p])
                summaries[p] = found[p]
        ranked = sorted(pipelines, key=lambda p: float("inf") if summaries[p]["val_error"] is None
                        else summaries[p]["val_error"])
        chosen = set(ranked[:finalists] if finalists else ranked)
        for cell in group:
            p = (cell.encoding, cell.target_encoding)
            if p in chosen:
                summary = {k: v for k, v in summaries[p].items() if k != "history"}
                kept.append(replace(cell, settings=cell.settings | summaries[p]["params"],
                                    tuning=summary | {"history": summaries[p]["history"]}))
    return kept
