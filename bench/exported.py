"""`bench.load(folder)`: a pipeline that `python -m bench.export` wrote, back as a predictor.

It reads pipeline.json (json) and model.safetensors (safetensors' `load_file`) and nothing else: nothing is
unpickled. Its encoders are built again from their specs through the registered encodings (bench.encodings)
and given their learned state (bench/encoder_state.py); its network is the exported member of the shared mlp,
run as the sweep ran it (the same padding, float32 weights, the same decoding), so on the run's test rows it
predicts what the run scored.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from bench.encoder_state import restore
from bench.encodings import build_input_encoder, build_target_encoder
from bench.errors import UserError
from bench.model import EnsembleMLP, MLPConfig
from bench.protocol import decode
from bench.targets import product_exponents
from bench.train import EnsembleMember

FORMAT = "encoding-bench pipeline 1"
PIPELINE, WEIGHTS = "pipeline.json", "model.safetensors"


@dataclass(frozen=True)
class Declared:
    """What the run's target declared that its encoders are built from: input names, products, ranges."""

    name: str
    names: list
    products: list
    declared_ranges: list | None

    def product_exponents(self):
        return product_exponents(self.name, self.products, self.names)

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
    """The pipeline exported into `folder`; a one-line UserError when it cannot be read as one."""
    folder = Path(folder)
    where = f"model folder {folder}"
    try:
        info = json.loads((folder / PIPELINE).read_text())
        tensors = load_file(folder / WEIGHTS)
    except OSError as error:
        raise UserError(f"{where}: cannot read {Path(error.filename or '').name or 'it'} ({error.strerror}); "
                        "export a model into it with python -m bench.export") from None
    except (ValueError, SafetensorError) as error:
        raise UserError(f"{where}: not an exported pipeline ({type(error).__name__}); export the model again") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise UserError(f"{where}: {PIPELINE} is not a '{FORMAT}' file; export the model again with this version")
    try:
        declared = Declared(**info["target"])
        input_encoder = restore(build_input_encoder(info["encoding"], declared), info["input_encoder"], tensors,
                                f"{where}, input encoder")
        target_encoder = restore(build_target_encoder(info["target_encoding"], declared), info["target_encoder"],
                                 tensors, f"{where}, target encoder")
        architecture = info["architecture"]
        single = EnsembleMLP([architecture["features"]], [0], MLPConfig(**architecture["mlp"]))
        single.load_state_dict({k.removeprefix("network."): v for k, v in tensors.items() if k.startswith("network.")})
        single.input_widths = [architecture["input_width"]]
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        detail = (str(error).strip().splitlines() or [""])[0][:200]
        raise UserError(f"{where}: {PIPELINE} does not describe this pipeline ({type(error).__name__}: {detail}); "
                        "export the model again") from None
    return ExportedPipeline(info, input_encoder, Member(single, architecture["features"]), target_encoder)
