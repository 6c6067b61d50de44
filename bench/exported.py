"""`bench.load(folder)`: a pipeline that `python -m bench.export` wrote, back as a predictor.

It reads pipeline.json (json) and model.safetensors (safetensors' `load_file`) and nothing else: nothing is
unpickled. Its encoders are built again from their specs through the registered encodings (bench.encodings)
and given their learned state (bench/encoder_state.py); its model (pipeline.json's `kind`) is the exported member
of the shared mlp, run as the sweep ran it (the same padding, float32 weights, the same decoding), LightGBM's
trees as arrays (bench/exported_trees.py), or the signomial's formula (its terms and sign rule), so on the run's
test rows it predicts what the run scored.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from baselines.signomial_signs import rule_signs
from baselines.signomial_terms import Terms
from bench.encoder_state import restore
from bench.encodings import build_input_encoder, build_target_encoder
from bench.errors import UserError
from bench.exported_trees import Trees, check_arrays
from bench.model import EnsembleMLP, MLPConfig
from bench.protocol import decode
from bench.stages import StagedMember
from bench.targets import product_exponents
from bench.train import EnsembleMember

FORMAT = "encoding-bench pipeline 1"
PIPELINE, WEIGHTS = "pipeline.json", "model.safetensors"
# What load accepts before reading a tensor: sizes a legitimate export stays far below, so that a crafted
# pipeline.json cannot make it allocate without bound.
LIMITS = {"json_bytes": 256 * 2**20, "tensor_elements": 500_000_000, "parameters": 100_000_000, "width": 16_384,
          "depth": 128, "features": 100_000, "input_width": 100_000, "n_frequencies": 4_096, "d_embedding": 4_096,
          "tree_trees": 1_000_000, "tree_nodes": 100_000_000, "tree_leaves": 100_000_000, "tree_features": 100_000,
          "signomial_terms": 100_000, "signomial_features": 100_000}


@dataclass(frozen=True)
class Declared:
    """What the run's target declared that its encoders are built from: input names, products, ranges."""

    name: str
    names: list
    products: list
    declared_ranges: list | None
    angles: list = ()  # the angle encoding's columns (exports made before it have none)

    def product_exponents(self):
        return product_exponents(self.name, self.products, self.names)

    def angle_columns(self):
        return tuple(self.angles)

    def ranges(self):
        return None if self.declared_ranges is None else tuple(tuple(r) for r in self.declared_ranges)


class Member(EnsembleMember):
    """The exported network, predicting as the ensemble member it was: a one-member EnsembleMLP, padded inputs."""

    def __init__(self, single, features):
        self.single, self.features = single, features


class ExportedPipeline:
    """Input encoder -> the mlp member -> inverse target encoder, as exported; `info` is pipeline.json."""

    def __init__(self, info, input_encoder, member, target_encoder):
        self.info, self.input_encoder, self.member, self.target_encoder = info, input_encoder, member, target_encoder

    @property
    def columns(self):
        """The input columns, in the order a NumPy array must hold them."""
        return self.info["columns"]

    def predict(self, X):
        """Float64 predictions on y's scale for X: a NumPy array with `columns` in that order, or a pandas
        DataFrame holding them by name (in any order, other columns ignored)."""
        X = torch.from_numpy(self._matrix(X))
        with torch.no_grad():
            return decode(self.target_encoder, self.member(self.input_encoder.transform(X)))

    def _matrix(self, X):
        if hasattr(X, "columns"):
            X = X.rename(columns=str)
            missing = [name for name in self.columns if name not in X.columns]
            if missing:
                raise UserError(f"X lacks column(s) {', '.join(missing)}; the model needs {', '.join(self.columns)}")
            X = X[self.columns]
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.columns):
            raise UserError(f"X has shape {X.shape}; the model needs (rows, {len(self.columns)}), columns "
                            f"{', '.join(self.columns)}")
        return np.ascontiguousarray(X)


def load(folder):
    """The pipeline exported into `folder`; a one-line UserError when it cannot be read as one. Its sizes, in
    pipeline.json and in model.safetensors' header, are checked against LIMITS before any tensor is read."""
    folder = Path(folder)
    where = f"model folder {folder}"
    try:
        if (folder / PIPELINE).stat().st_size > LIMITS["json_bytes"]:
            raise UserError(f"{where}: {PIPELINE} is larger than {LIMITS['json_bytes']:,} bytes; export the model again")
        info = json.loads((folder / PIPELINE).read_text())
        with safe_open(folder / WEIGHTS, "pt") as file:
            shapes = {key: tuple(file.get_slice(key).get_shape()) for key in file.keys()}
    except OSError as error:
        raise UserError(f"{where}: cannot read {Path(error.filename or '').name or 'it'} ({error.strerror}); "
                        "export a model into it with python -m bench.export") from None
    except (ValueError, SafetensorError) as error:
        raise UserError(f"{where}: not an exported pipeline ({type(error).__name__}); export the model again") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise UserError(f"{where}: {PIPELINE} is not a '{FORMAT}' file; export the model again with this version")
    kind = info.get("kind", "mlp")  # exports made before other kinds were mlp
    if kind not in BUILDERS:
        raise UserError(f"{where}: unknown model kind {kind!r}; export the model again with this version")
    try:
        check_sizes(info["architecture"], kind, shapes)
        tensors = load_file(folder / WEIGHTS)
        declared = Declared(**info["target"])
        input_encoder = restore(build_input_encoder(info["encoding"], declared), info["input_encoder"], tensors,
                                f"{where}, input encoder")
        target_encoder = restore(build_target_encoder(info["target_encoding"], declared), info["target_encoder"],
                                 tensors, f"{where}, target encoder")
        member = BUILDERS[kind](info["architecture"], tensors)
    except (KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as error:
        detail = (str(error).strip().splitlines() or [""])[0][:200]
        raise UserError(f"{where}: {PIPELINE} does not describe this pipeline ({type(error).__name__}: {detail}); "
                        "export the model again") from None
    return ExportedPipeline(info, input_encoder, member, target_encoder)


def check_sizes(architecture, kind, shapes):
    """ValueError when the architecture exceeds LIMITS, or when the tensors' shapes (`shapes`, from the header)
    are not the ones it needs; nothing is allocated (a network is built on the meta device to count it)."""
    elements = sum(math.prod(shape) for shape in shapes.values())
    if elements > LIMITS["tensor_elements"]:
        raise ValueError(f"model.safetensors holds {elements:,} numbers, above the limit of {LIMITS['tensor_elements']:,}")
    if kind == "trees":
        for name in ("trees", "nodes", "leaves", "features"):
            if not isinstance(architecture[name], int) or not 0 <= architecture[name] <= LIMITS[f"tree_{name}"]:
                raise ValueError(f"{name} {architecture[name]!r} is not a count up to {LIMITS[f'tree_{name}']:,}")
        return
    if kind == "signomial":
        terms, features = architecture["terms"], architecture["features"]
        for name, value in (("terms", terms), ("features", features)):
            if not isinstance(value, int) or not 1 <= value <= LIMITS[f"signomial_{name}"]:
                raise ValueError(f"{name} {value!r} is not a whole number from 1 to {LIMITS[f'signomial_{name}']:,}")
        if shapes != {"signomial.exponents": (terms, features), "signomial.coefficients": (terms,)} | {
                k: v for k, v in shapes.items() if not k.startswith("signomial.")}:
            raise ValueError("model.safetensors' signomial tensors are not the shapes its architecture needs")
        if not all(isinstance(i, int) and 0 <= i < features for i in architecture["sign_rule"]):
            raise ValueError("the sign rule names a feature the model does not have")
        return
    config = MLPConfig(**architecture["mlp"])
    sizes = {"width": config.width, "depth": config.depth, "features": architecture["features"],
             "input_width": architecture["input_width"], "n_frequencies": config.n_frequencies,
             "d_embedding": config.d_embedding}
    for name, value in sizes.items():
        if not isinstance(value, int) or not 1 <= value <= LIMITS[name]:
            raise ValueError(f"{name} {value!r} is not a whole number from 1 to {LIMITS[name]:,}")
    with torch.device("meta"):
        skeleton = EnsembleMLP([architecture["features"]], [0], config)
    parameters = sum(p.numel() for p in skeleton.parameters())
    if parameters > LIMITS["parameters"]:
        raise ValueError(f"the network has {parameters:,} parameters, above the limit of {LIMITS['parameters']:,}")
    needed = {f"network.{k}": tuple(v.shape) for k, v in skeleton.state_dict().items()}
    if needed != {k: v for k, v in shapes.items() if k.startswith("network.")}:
        raise ValueError("model.safetensors' network tensors are not the shapes its architecture needs")


def network_member(architecture, tensors):
    """The exported mlp member, its weights loaded; with residual stages (bench.stages), all of them."""
    first = stage_network(architecture, tensors, "network.")
    later = [(float(scale), stage_network(architecture, tensors, f"stage{k}."))
             for k, scale in enumerate(architecture.get("stage_scales", []), start=2)]
    return StagedMember(first, later) if later else first


def stage_network(architecture, tensors, prefix):
    """One exported network (its tensors named `prefix`*) as a member."""
    single = EnsembleMLP([architecture["features"]], [0], MLPConfig(**architecture["mlp"]))
    single.load_state_dict({k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)})
    single.input_widths = [architecture["input_width"]]
    return Member(single, architecture["features"])


def tree_member(architecture, tensors):
    """The exported trees, their arrays checked (bench/exported_trees.py)."""
    arrays = {k.removeprefix("trees."): v for k, v in tensors.items() if k.startswith("trees.")}
    check_arrays(architecture, arrays)
    return Trees(arrays)


class Formula:
    """An exported signomial: S(F) · Σ_k c_k Π_i |f_i|^w_ki on the encoded inputs F, S the product of the sign
    rule's features' signs, evaluated as the fitted model did (baselines/signomial_terms.py's Terms)."""

    def __init__(self, terms, rule):
        self.terms, self.rule = terms, list(rule)

    def __call__(self, Z):
        return torch.from_numpy(self.terms.predict(Z.abs().cpu().numpy())) * rule_signs(Z, self.rule)


def formula_member(architecture, tensors):
    """The exported signomial's kept form."""
    return Formula(Terms(tensors["signomial.exponents"].double().numpy(),
                         tensors["signomial.coefficients"].double().numpy()), architecture["sign_rule"])


BUILDERS = {"mlp": network_member, "trees": tree_member, "signomial": formula_member}  # `kind` -> its predictor
