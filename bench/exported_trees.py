"""A fitted LightGBM model as plain arrays and back: every tree's nodes and leaves, for bench.export and bench.load.

`tree_arrays` flattens the trees LightGBM predicts with (up to its best iteration) into one set of node arrays
(split feature, threshold, children, missing-value rule) and one of leaf values; a child index >= 0 is a node,
a negative one `~leaf`. `Trees` walks them in NumPy exactly as LightGBM's numerical decisions do and sums the
trees in LightGBM's order, so the loaded model predicts what the fitted one did, without LightGBM installed.
"""

import numpy as np
import torch

MISSING = {"None": 0, "Zero": 1, "NaN": 2}  # LightGBM's missing-value rule of a split
ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float): |x| at most this counts as zero
ARRAYS = ("roots", "feature", "threshold", "left", "right", "default_left", "missing", "leaf_value")
ROWS_PER_CHUNK = 4096  # rows walked at once: memory ~ rows x trees


def tree_arrays(model):
    """(description, {name: tensor}) of a fitted LGBMRegressor's trees; ValueError for what `Trees` cannot walk
    (categorical splits, linear trees, an objective whose output is transformed)."""
    dump = model.booster_.dump_model(num_iteration=model.best_iteration_ or None)
    objective = str(dump.get("objective", ""))
    if not objective.startswith(("regression", "huber", "fair", "quantile")) or "sqrt" in objective:
        raise ValueError(f"LightGBM objective {objective!r} transforms its output; only regression objectives export")
    nodes = {name: [] for name in ARRAYS if name not in ("roots", "leaf_value")}
    leaves, roots = [], []
    for tree in dump["tree_info"]:
        roots.append(_flatten(tree["tree_structure"], nodes, leaves))
    arrays = {"roots": np.asarray(roots, np.int64), "feature": np.asarray(nodes["feature"], np.int64),
              "threshold": np.asarray(nodes["threshold"], np.float64), "left": np.asarray(nodes["left"], np.int64),
              "right": np.asarray(nodes["right"], np.int64), "default_left": np.asarray(nodes["default_left"], np.bool_),
              "missing": np.asarray(nodes["missing"], np.uint8), "leaf_value": np.asarray(leaves, np.float64)}
    description = {"trees": len(roots), "nodes": len(nodes["feature"]), "leaves": len(leaves),
                   "features": int(dump["max_feature_idx"]) + 1, "objective": objective}
    return description, {name: torch.from_numpy(array) for name, array in arrays.items()}


def _flatten(root, nodes, leaves):
    """Append one tree's nodes and leaves (depth first, without recursion); returns the root's index."""
    def place(node):
        if "leaf_value" in node:
            leaves.append(float(node["leaf_value"]))
            return ~(len(leaves) - 1)
        if node.get("decision_type") != "<=":
            raise ValueError(f"a LightGBM split of kind {node.get('decision_type')!r}: only numerical splits export")
        nodes["feature"].append(int(node["split_feature"]))
        nodes["threshold"].append(float(node["threshold"]))
        nodes["default_left"].append(bool(node["default_left"]))
        nodes["missing"].append(MISSING[node["missing_type"]])
        nodes["left"].append(0)
        nodes["right"].append(0)
        pending.append((len(nodes["feature"]) - 1, node))
        return len(nodes["feature"]) - 1

    pending = []
    first = place(root)
    while pending:
        index, node = pending.pop()
        nodes["left"][index] = place(node["left_child"])
        nodes["right"][index] = place(node["right_child"])
    return first


def check_arrays(description, tensors):
    """ValueError unless the arrays have the lengths `description` gives, every index points inside them and every
    child comes after its node (no cycle)."""
    lengths = {"roots": description["trees"], "leaf_value": description["leaves"]} | {
        name: description["nodes"] for name in ("feature", "threshold", "left", "right", "default_left", "missing")}
    for name, length in lengths.items():
        if name not in tensors or tuple(tensors[name].shape) != (length,):
            raise ValueError(f"tree array {name!r} is missing or not of length {length}")
    children = torch.cat([tensors["roots"], tensors["left"], tensors["right"]])
    if bool((children >= description["nodes"]).any() | (children < -description["leaves"]).any()):
        raise ValueError("a tree points outside its arrays")
    index = torch.arange(description["nodes"])
    for side in ("left", "right"):  # flattening puts a node's children after it, so a walk always ends
        if bool(((tensors[side] >= 0) & (tensors[side] <= index)).any()):
            raise ValueError("a tree node points back to itself or to a node before it (a cycle)")
    if bool((tensors["feature"] < 0).any() | (tensors["feature"] >= description["features"]).any()):
        raise ValueError("a split names a feature the model does not have")
    if bool((tensors["missing"] > max(MISSING.values())).any()):
        raise ValueError("a split has an unknown missing-value rule")


class Trees:
    """The flattened trees as a predictor of encoded targets: float64 NumPy in (or a tensor), float64 NumPy out."""

    def __init__(self, tensors):
        self.arrays = {name: tensors[name].numpy() for name in ARRAYS}

    def __call__(self, Z):
        Z = Z.cpu().numpy() if torch.is_tensor(Z) else np.asarray(Z, np.float64)
        return np.concatenate([self._walk(Z[start:start + ROWS_PER_CHUNK])
                               for start in range(0, len(Z), ROWS_PER_CHUNK)] or [np.zeros(0)])

    def _walk(self, Z):
        a = self.arrays
        position = np.tile(a["roots"], (len(Z), 1))
        inner = position >= 0
        while inner.any():
            rows, trees = np.nonzero(inner)
            node = position[rows, trees]
            x = Z[rows, a["feature"][node]]
            missing = a["missing"][node]
            x = np.where(np.isnan(x) & (missing != MISSING["NaN"]), 0.0, x)
            default = ((missing == MISSING["Zero"]) & (np.abs(x) <= ZERO)) | ((missing == MISSING["NaN"]) & np.isnan(x))
            left = np.where(default, a["default_left"][node], x <= a["threshold"][node])
            position[rows, trees] = np.where(left, a["left"][node], a["right"][node])
            inner = position >= 0
        values = a["leaf_value"][~position]
        total = np.zeros(len(Z))
        for tree in range(values.shape[1]):  # LightGBM adds the trees one after another, in this order
            total += values[:, tree]
        return total
