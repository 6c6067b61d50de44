"""Fitted encoders as plain data and back: JSON-ready state plus named tensors, for bench.export and bench.load.

A fitted encoder (each step of a composed spec such as `edges+log`) is saved as its class name and its learned
attributes, scikit-learn's `name_` convention; its constructor arguments are not saved, because loading builds
the encoder again through the registered encodings (bench.encodings) and sets only the learned state on it.
Tensors and numeric arrays go to the safetensors file under `<prefix>.<attribute>`; numbers, strings, lists and
dicts go to JSON; a scikit-learn transformer an encoder holds (`quantile`'s, `power`'s) is saved whole, its
class restricted to NESTED. Nothing is pickled, and loading calls no constructor that JSON names outside NESTED.
"""

import numpy as np
import torch
from sklearn.preprocessing import PowerTransformer, QuantileTransformer, StandardScaler

from bench.errors import UserError

NESTED = {cls.__name__: cls for cls in (QuantileTransformer, PowerTransformer, StandardScaler)}


def steps(encoder):
    """The encoders a fitted input or target encoder is made of: a Pipeline's steps, or itself."""
    return [step for _, step in encoder.steps] if hasattr(encoder, "steps") else [encoder]


def learned(name):
    """Whether an attribute is learned state (scikit-learn's `name_`), not a constructor argument."""
    return name.isidentifier() and name.endswith("_") and not name.startswith("_")


def save(encoder, prefix, tensors):
    """Each step of a fitted `encoder` as {"class", "state"}; its tensors are added to `tensors` under `prefix`."""
    return [{"class": type(step).__name__,
             "state": {name: _dump(value, f"{prefix}.{i}.{name}", tensors) for name, value in vars(step).items()
                       if learned(name)}} for i, step in enumerate(steps(encoder))]


def restore(encoder, saved, tensors, where):
    """Set the learned state `saved` (from `save`) on `encoder`, freshly built for the same spec; a one-line
    UserError (starting with `where`) when the saved classes are not the ones the spec builds."""
    built = steps(encoder)
    if not isinstance(saved, list) or len(saved) != len(built):
        raise UserError(f"{where}: {len(built)} encoder step(s) expected; export the model again")
    for step, entry in zip(built, saved):
        if entry.get("class") != type(step).__name__:
            raise UserError(f"{where}: unknown encoder class {entry.get('class')!r}: this encoding builds "
                            f"{type(step).__name__}; export the model again with this version")
        for name, node in entry.get("state", {}).items():
            if not learned(name):
                raise UserError(f"{where}: {name!r} is not learned state of {type(step).__name__}; export the model again")
            setattr(step, name, _load(node, tensors, where))
    return encoder


def _dump(value, key, tensors):
    """One attribute's value as a JSON node; tensors and arrays are stored in `tensors` under `key`."""
    if torch.is_tensor(value):
        tensors[key] = value.detach().cpu().clone(memory_format=torch.contiguous_format)
        return {"tensor": key}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        tensors[key] = torch.from_numpy(np.ascontiguousarray(value))
        return {"array": key}
    if isinstance(value, np.generic):
        return {"scalar": value.item(), "dtype": value.dtype.str}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if isinstance(value, (list, tuple)):
        return {"list": [_dump(item, f"{key}.{i}", tensors) for i, item in enumerate(value)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _dump(v, f"{key}.{k}", tensors) for k, v in value.items()}}
    if type(value).__name__ in NESTED and type(value) is NESTED[type(value).__name__]:
        return {"object": type(value).__name__,
                "state": {name: _dump(v, f"{key}.{name}", tensors) for name, v in vars(value).items()}}
    raise TypeError(f"cannot export {key}: a {type(value).__name__}; add its class to bench.encoder_state.NESTED")


def _load(node, tensors, where):
    """The value a JSON node (from `_dump`) stands for."""
    kind = next(iter(node), None) if isinstance(node, dict) else None
    if kind in ("tensor", "array"):
        if node[kind] not in tensors:
            raise UserError(f"{where}: tensor {node[kind]!r} is missing from model.safetensors; export the model again")
        return tensors[node[kind]] if kind == "tensor" else tensors[node[kind]].numpy()
    if kind == "scalar" and np.dtype(node["dtype"]).kind in "biuf":
        return np.dtype(node["dtype"]).type(node["scalar"])
    if kind == "value":
        return node["value"]
    if kind == "list":
        return [_load(item, tensors, where) for item in node["list"]]
    if kind == "dict":
        return {k: _load(v, tensors, where) for k, v in node["dict"].items()}
    if kind == "object" and node["object"] in NESTED:
        cls = NESTED[node["object"]]
        value = cls()
        for name, item in node["state"].items():
            if not name.isidentifier() or name.startswith("__") or hasattr(cls, name):
                raise UserError(f"{where}: {name!r} is not state of a {cls.__name__}; export the model again")
            setattr(value, name, _load(item, tensors, where))
        return value
    raise UserError(f"{where}: unknown entry {str(node)[:80]!r} in an encoder's state; export the model again")
