"""The distilled student as an edge server would deploy it: one small file, plain numpy.

:func:`export_lean` writes the weights of a trained multilayer perceptron (Linear and
ReLU layers, ``|A|`` groups of 3 outputs) to a single binary file; :func:`load_lean`
reads it back as a :class:`LeanMLP`, a policy (``name`` + ``decide(req)``) whose forward
pass is a handful of ``numpy`` matrix products on weights prepared once at load time
(float32, transposed, contiguous). Loading and running it needs only numpy: no torch,
no autograd, no module dispatch per request.

The file holds everything the decision depends on, including the feature preparation
(the scales of :func:`kdoffload.features` and any input transform of the network), so a
server holding only the file makes the same decisions as the torch model.

File format (little-endian)
---------------------------
====================  ==========================================================
bytes                 content
====================  ==========================================================
6                     magic ``b"KDLEAN"``
2                     format version (uint16), currently 1
4                     header length ``H`` (uint32)
H                     header, UTF-8 JSON: ``name``, ``num_subtasks``,
                      ``layers`` ([in, out] per Linear layer), ``activation``
                      ("relu"), ``feature_scale`` (divisor of E, D, p1, p2, b1,
                      b2), ``transform`` ("log", "standard" or "none"),
                      ``log_floor``, ``payload_bytes``, ``crc32`` of the payload
payload_bytes         float32: for each layer its weight (out, in) row-major then
                      its bias (out,); then, unless ``transform`` is "none", the
                      standardisation mean and std (in,)
====================  ==========================================================

A truncated file, a foreign file, a corrupted payload or layer shapes that do not chain
or do not fit ``|A|`` raise :class:`LeanFormatError` (a ``ValueError``) saying which.

Same decisions, not the same bits
---------------------------------
The lean forward pass repeats torch's operations in the same order and precision
(float32 features, floor, log, minus mean, divided by std, then ``x W + b`` and ReLU per
layer, argmax with ties to the first maximum). The logits still differ from torch's in
the last bits: numpy's BLAS and torch's kernels sum the products in different orders,
and torch's float32 log is not correctly rounded (the lean path computes it in float64
and rounds, which differs from torch's in the last bit for a few per cent of inputs).
A decision can therefore differ only where two logits of a group are within about
1e-6 of each other. :func:`kdoffload.timing.table1.check_lean` compares the decisions on a
whole test set; that check, not bitwise equality, is the claim.

:func:`lean_mlp` gives the same :class:`LeanMLP` without a file (the teacher and Baseline
DIL in the delay table). A single request takes :meth:`LeanMLP.decide_one`: the same
operations on one feature vector, a matrix-vector product per layer. :func:`mlp_operations`
counts the operations of a decision.

:class:`LeanDynamicProgramming` gives the exact solver the same per-request treatment,
so the delay table can compare like with like; :mod:`kdoffload.lean_policies` does the
same for every other policy of Table 1.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .checks import check_choice
from .data import FEATURE_SCALE, LOG_FLOOR, TRANSFORMS, feature_columns, feature_width
from .system import NUM_LOCATIONS, Requirements

MAGIC = b"KDLEAN"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<6sHI")  # magic, version, header length
_FIELDS = ("E", "D", "p1", "p2", "b1", "b2")



class LeanFormatError(ValueError):
    """A lean weight file that cannot be used: truncated, foreign, corrupt or wrong-shaped."""


# --------------------------------------------------------------------------- export


def mlp_layers(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight (out, in), bias (out,)) of each Linear layer of an MLP, as float32 arrays.

    ``model`` is a ``torch.nn.Sequential`` (possibly nested) of ``Linear`` and ``ReLU``
    layers, with a ReLU between consecutive Linear layers and none after the last one
    (its outputs are the logits). Anything else raises a ``ValueError``.
    """
    import torch

    modules = [m for m in model.modules() if not isinstance(m, torch.nn.Sequential)]
    layers, expect_linear = [], True
    for module in modules:
        if isinstance(module, torch.nn.Linear):
            if not expect_linear:
                raise ValueError("two Linear layers in a row: the lean path expects a ReLU between them")
            weight = module.weight.detach().cpu().numpy().astype(np.float32)
            bias = (module.bias.detach().cpu().numpy() if module.bias is not None
                    else np.zeros(module.out_features)).astype(np.float32)
            layers.append((weight, bias))
            expect_linear = False
        elif isinstance(module, torch.nn.ReLU):
            if expect_linear:
                raise ValueError("a ReLU not preceded by a Linear layer")
            expect_linear = True
        elif isinstance(module, (torch.nn.Identity, torch.nn.Dropout, torch.nn.Flatten)):
            continue  # no effect at inference (Dropout in eval mode)
        else:
            raise ValueError(f"the lean path supports Linear and ReLU layers only, got {type(module).__name__}")
    if not layers:
        raise ValueError("the model has no Linear layer")
    if expect_linear:
        raise ValueError("the model ends with a ReLU; its last layer must be Linear (the logits)")
    return layers


def _check_shapes(layers: list[tuple[int, int]], num_subtasks: int, where: str, outputs: bool = True,
                  input_width: int | None = None) -> None:
    """Layer shapes that chain, take the 2|A| + 5 features (or ``input_width``, a task-graph
    problem's) and (``outputs``) give 3|A| logits."""
    width = feature_width(num_subtasks) if input_width is None else int(input_width)
    if layers[0][0] != width:
        needs = f"2|A| + 5 = {width}" if input_width is None else f"input_width = {width}"
        raise LeanFormatError(
            f"{where}: first layer takes {layers[0][0]} inputs, but |A| = {num_subtasks} needs {needs} features"
        )
    for k in range(1, len(layers)):
        if layers[k][0] != layers[k - 1][1]:
            raise LeanFormatError(
                f"{where}: layer {k} takes {layers[k][0]} inputs but layer {k - 1} gives {layers[k - 1][1]}"
            )
    if outputs and layers[-1][1] != NUM_LOCATIONS * num_subtasks:
        raise LeanFormatError(
            f"{where}: last layer gives {layers[-1][1]} outputs, but |A| = {num_subtasks} needs "
            f"3|A| = {NUM_LOCATIONS * num_subtasks}"
        )


def _encode(header: dict, arrays: list[np.ndarray]) -> bytes:
    """The bytes of a lean weight file holding ``header`` and ``arrays`` (see the module docstring)."""
    payload = b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for a in arrays)
    header = dict(header, payload_bytes=len(payload), crc32=zlib.crc32(payload))
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _PREFIX.pack(MAGIC, FORMAT_VERSION, len(text)) + text + payload


def _write(path, header: dict, arrays: list[np.ndarray]) -> int:
    data = _encode(header, arrays)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return len(data)


def _network_parts(model):
    """(body, transform, mean, std, num_subtasks, name) of an MLP policy or a plain Sequential."""
    scaler = getattr(model, "scaler", None)
    body = getattr(model, "body", None)
    if scaler is not None and body is not None:  # kdoffload.nets.MLPPolicy
        transform = str(scaler.transform)
        mean = scaler.mean.detach().cpu().numpy() if transform != "none" else None
        std = scaler.std.detach().cpu().numpy() if transform != "none" else None
        return body, transform, mean, std, int(model.num_subtasks), getattr(model, "name", None)
    return model, "none", None, None, None, None


def network_arrays(body, num_subtasks: int, transform: str = "none", mean=None, std=None,
                   feature_scale: dict | None = None, name: str = "kd_dil_lean",
                   outputs: bool = True, input_width: int | None = None) -> tuple[dict, list[np.ndarray]]:
    """The header and float32 arrays of a lean weight file for the Linear/ReLU stack ``body``.

    ``outputs=False`` skips the check that the last layer gives 3|A| logits (the DQN's
    head scores 3^|A| actions; see :mod:`kdoffload.lean_policies`). ``input_width``
    (default: the chain's 2|A| + 5) is stored in the header when given: a network of a
    task-graph problem, whose features its problem prepares (:mod:`kdoffload.graphs.learning`).
    """
    if feature_scale is None:
        feature_scale = FEATURE_SCALE
    check_choice("transform", transform, TRANSFORMS)
    layers = mlp_layers(body)
    shapes = [(int(w.shape[1]), int(w.shape[0])) for w, _ in layers]
    _check_shapes(shapes, num_subtasks, "cannot export", outputs=outputs, input_width=input_width)
    arrays = [a for w, b in layers for a in (w, b)]
    width = shapes[0][0]
    if transform != "none":
        for label, value in (("mean", mean), ("std", std)):
            if value is None:
                raise ValueError(f"transform {transform!r} needs {label}")
            value = np.asarray(value, dtype=np.float32).reshape(-1)
            if value.shape != (width,):
                raise ValueError(f"{label} must have shape ({width},), got {value.shape}")
            arrays.append(value)
    header = {
        "name": name, "num_subtasks": int(num_subtasks), "layers": [list(s) for s in shapes],
        "activation": "relu", "dtype": "<f4", "transform": transform, "log_floor": LOG_FLOOR,
        "feature_scale": {key: float(feature_scale[key]) for key in _FIELDS},
    }
    if input_width is not None:
        header["input_width"] = int(input_width)
    return header, arrays


def _prepare(model, num_subtasks, transform, mean, std, feature_scale, name) -> tuple[dict, list[np.ndarray]]:
    body, model_transform, model_mean, model_std, model_subtasks, model_name = _network_parts(model)
    if model_subtasks is not None and (transform is not None or mean is not None or std is not None):
        raise ValueError("transform, mean and std are read from the MLPPolicy's scaler; do not pass them")
    transform = model_transform if transform is None else transform
    mean = model_mean if mean is None else mean
    std = model_std if std is None else std
    num_subtasks = num_subtasks or model_subtasks or 6
    name = name or (f"{model_name}_lean" if model_name else "kd_dil_lean")
    width = getattr(model, "input_width", None)
    width = None if width is None or width == feature_width(num_subtasks) else width
    return network_arrays(body, num_subtasks, transform, mean, std, feature_scale, name, input_width=width)


def export_lean(model, path, *, num_subtasks: int | None = None, transform: str | None = None,
                mean=None, std=None, feature_scale: dict | None = None, name: str | None = None) -> int:
    """Write ``model``'s weights and input pipeline to ``path``; return the file size in bytes.

    Parameters
    ----------
    model : kdoffload.nets.MLPPolicy or torch.nn.Sequential
        An :class:`~kdoffload.nets.MLPPolicy` (its ``scaler`` -- transform, mean, std --
        and its ``body`` are exported), or a plain MLP of Linear/ReLU layers (see
        :func:`mlp_layers`) mapping the 2|A| + 5 features to 3|A| logits.
    num_subtasks : int, optional
        |A| (default: the model's, or 6 for a plain Sequential).
    transform, mean, std : optional
        For a plain Sequential only: the input pipeline of
        :class:`kdoffload.nets.InputScaler` ("log": ``(log(max(x, 1e-6)) - mean) / std``,
        "standard": ``(x - mean) / std``, "none", the default).
    feature_scale : dict, optional
        Divisors of E, D, p1, p2, b1, b2 (default :data:`kdoffload.data.FEATURE_SCALE`).
    name : str, optional
        The policy name of the loaded model (default: the model's name + "_lean", or
        "kd_dil_lean").
    """
    header, arrays = _prepare(model, num_subtasks, transform, mean, std, feature_scale, name)
    return _write(path, header, arrays)


def lean_mlp(model, *, num_subtasks: int | None = None, transform: str | None = None, mean=None, std=None,
             feature_scale: dict | None = None, name: str | None = None) -> "LeanMLP":
    """``model`` as a :class:`LeanMLP` without a file: the same bytes :func:`export_lean`
    would write, decoded in memory (so the same weights, bit for bit, as ``load_lean``
    of that file). Arguments as in :func:`export_lean`."""
    header, arrays = _prepare(model, num_subtasks, transform, mean, std, feature_scale, name)
    return LeanMLP(*_decode(_encode(header, arrays), "<memory>"))


# --------------------------------------------------------------------------- load


def _read(path) -> tuple[dict, np.ndarray]:
    return _decode(Path(path).read_bytes(), path)


def _decode(data: bytes, path) -> tuple[dict, np.ndarray]:
    """Header and float32 values of the bytes of a lean weight file (``path`` names it in errors)."""
    if len(data) < _PREFIX.size:
        raise LeanFormatError(f"{path}: truncated: {len(data)} bytes, shorter than the {_PREFIX.size}-byte prefix")
    magic, version, header_length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise LeanFormatError(f"{path}: not a kdoffload lean weight file (magic {magic!r}, expected {MAGIC!r})")
    if version != FORMAT_VERSION:
        raise LeanFormatError(f"{path}: format version {version}, this reader knows version {FORMAT_VERSION}")
    end = _PREFIX.size + header_length
    if len(data) < end:
        raise LeanFormatError(f"{path}: truncated: the header needs {header_length} bytes, "
                              f"only {len(data) - _PREFIX.size} follow the prefix")
    try:
        header = json.loads(data[_PREFIX.size:end].decode("utf-8"))
        layers = [(int(a), int(b)) for a, b in header["layers"]]
        num_subtasks = int(header["num_subtasks"])
        expected = int(header["payload_bytes"])
        input_width = header.get("input_width")
        input_width = None if input_width is None else int(input_width)
    except (ValueError, KeyError, TypeError) as error:
        raise LeanFormatError(f"{path}: corrupt header ({error})") from None
    payload = data[end:]
    if len(payload) != expected:
        kind = "truncated" if len(payload) < expected else "has trailing bytes"
        raise LeanFormatError(f"{path}: {kind}: the header announces {expected} payload bytes, found {len(payload)}")
    if zlib.crc32(payload) != header.get("crc32"):
        raise LeanFormatError(f"{path}: corrupt payload (CRC-32 mismatch)")
    if not layers:
        raise LeanFormatError(f"{path}: no layers")
    _check_shapes(layers, num_subtasks, str(path), input_width=input_width)
    width = layers[0][0]
    transform = header.get("transform")
    if transform not in TRANSFORMS:
        raise LeanFormatError(f"{path}: unknown input transform {transform!r}")
    floats = sum(i * o + o for i, o in layers) + (2 * width if transform != "none" else 0)
    if 4 * floats != expected:
        raise LeanFormatError(f"{path}: wrong shape: layers {layers} need {4 * floats} payload bytes, "
                              f"the file holds {expected}")
    return header, np.frombuffer(payload, dtype="<f4")


class LeanMLP:
    """A student MLP for inference in plain numpy; a policy (``name``, ``decide``).

    Built by :func:`load_lean`. Weights are float32, stored transposed ``(in, out)``
    and C-contiguous, so a forward pass is ``x @ W + b`` and ``max(., 0)`` per layer
    with no copies of the weights.
    """

    def __init__(self, header: dict, values: np.ndarray):
        self.name = str(header.get("name", "kd_dil_lean"))
        self.num_subtasks = int(header["num_subtasks"])
        self.layer_shapes = [(int(a), int(b)) for a, b in header["layers"]]
        self.weights, self.biases = [], []
        offset = 0
        for fan_in, fan_out in self.layer_shapes:
            weight = values[offset:offset + fan_in * fan_out].reshape(fan_out, fan_in)
            offset += fan_in * fan_out
            self.weights.append(np.ascontiguousarray(weight.T, dtype=np.float32))
            self.biases.append(np.array(values[offset:offset + fan_out], dtype=np.float32))
            offset += fan_out
        width = self.layer_shapes[0][0]
        self.transform = header["transform"]
        self.log_floor = np.float32(header.get("log_floor", LOG_FLOOR))
        self.mean = self.std = None
        if self.transform != "none":
            self.mean = np.array(values[offset:offset + width], dtype=np.float32)
            self.std = np.array(values[offset + width:offset + 2 * width], dtype=np.float32)
        scale = header["feature_scale"]
        #: Features the first layer takes: the chain's 2|A| + 5, or a task-graph problem's
        #: (then :meth:`features` and :meth:`logits_one` do not apply; the problem prepares them).
        self.input_width = width
        # One float64 divisor per feature column, in the order of kdoffload.features.
        self._divisor = np.concatenate([np.full(count, scale[field])
                                        for field, count in feature_columns(self.num_subtasks).items()])
        if "input_width" in header:
            self._divisor = None
        self._layers = list(zip(self.weights, self.biases))
        self._hidden, self._last = self._layers[:-1], self._layers[-1]

    @property
    def num_parameters(self) -> int:
        return sum(w.size + b.size for w, b in self._layers)

    def features(self, req: Requirements) -> np.ndarray:
        """The features of ``req`` (n, 2|A| + 5) float32, equal to ``kdoffload.features(req)``
        (each value is the float64 quotient rounded to float32)."""
        self.check_subtasks(req)
        raw = np.concatenate((req.E, req.D, req.p1[:, None], req.p2[:, None], req.b1[:, None], req.b2[:, None]),
                             axis=1)
        raw /= self._divisor
        return raw.astype(np.float32)

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """What the first layer sees: the input pipeline of :class:`kdoffload.nets.InputScaler`
        applied to features ``x`` (float32), in the same order of float32 operations
        (floor, log, minus mean, divided by std). The log is computed in float64 and rounded
        to float32 (correctly rounded; torch's float32 log may differ from it in the last
        bit; see the module docstring)."""
        if self.transform == "none":
            return x
        if self.transform == "log":
            x = np.log(np.maximum(x, self.log_floor), dtype=np.float64).astype(np.float32)
        x = x - self.mean
        x /= self.std
        return x

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits (n, 3|A|) of prepared inputs ``x`` (n, 2|A| + 5) float32."""
        dot, maximum = np.dot, np.maximum
        for weight, bias in self._hidden:
            x = dot(x, weight)
            x += bias
            maximum(x, 0.0, out=x)
        weight, bias = self._last
        x = dot(x, weight)
        x += bias
        return x

    def operations(self) -> dict:
        """Operations per decision of this network (see :func:`mlp_operations`)."""
        return mlp_operations(self.layer_shapes, self.num_subtasks, self.transform)

    def logits_one(self, req: Requirements) -> np.ndarray:
        """Logits (outputs,) of the first request of ``req``: the operations of
        :meth:`features`, :meth:`inputs` and :meth:`logits` on one feature vector (1-d, so
        each layer is a matrix-vector product), with the fewest numpy calls."""
        x = np.concatenate((req.E[0], req.D[0], req.p1[:1], req.p2[:1], req.b1[:1], req.b2[:1]))
        x /= self._divisor
        x = x.astype(np.float32)
        if self.transform == "log":
            x = np.log(np.maximum(x, self.log_floor), dtype=np.float64).astype(np.float32)
        if self.transform != "none":
            x -= self.mean
            x /= self.std
        return self.logits(x)  # 1-d x: each layer is a matrix-vector product

    def decide_one(self, req: Requirements) -> np.ndarray:
        """Locations (1, |A|) int64 of the first request of ``req`` (see :meth:`logits_one`)."""
        return self.logits_one(req).reshape(1, self.num_subtasks, NUM_LOCATIONS).argmax(axis=2)

    def check_subtasks(self, req: Requirements) -> None:
        """A ValueError if ``req`` has another |A| than the network decides, or if the network
        takes a task-graph problem's features (its problem prepares them, not ``req``)."""
        if self._divisor is None:
            raise ValueError(f"this network takes input_width = {self.input_width} task-graph features, not chain "
                             f"requirements: give it its problem's features (kdoffload.graphs.learning)")
        if req.E.shape[1] != self.num_subtasks:
            raise ValueError(f"this network decides |A| = {self.num_subtasks} subtasks, "
                             f"got requirements with |A| = {req.E.shape[1]}")

    def decide(self, req: Requirements) -> np.ndarray:
        """Locations (n, |A|) int64: the argmax of each group of 3 logits."""
        self.check_subtasks(req)
        if req.n == 1:  # one request (online): a matrix-vector product per layer
            return self.decide_one(req)
        logits = self.logits(self.inputs(self.features(req)))
        if logits.shape[0] < 32:  # one request (online): the fewest numpy calls
            return logits.reshape(logits.shape[0], self.num_subtasks, NUM_LOCATIONS).argmax(axis=2)
        # Batches: the same argmax (first maximum on ties, as numpy's and torch's) by two
        # comparisons, about twice as fast as argmax over an axis of length 3.
        device, edge, cloud = logits[:, 0::3], logits[:, 1::3], logits[:, 2::3]
        edge_better = edge > device
        decisions = edge_better.astype(np.int64)
        decisions[cloud > np.where(edge_better, edge, device)] = 2
        return decisions

    def __repr__(self) -> str:
        shapes = " -> ".join([str(self.layer_shapes[0][0])] + [str(o) for _, o in self.layer_shapes])
        return f"LeanMLP(name={self.name!r}, layers {shapes}, {self.num_parameters} parameters)"


def mlp_operations(layer_shapes, num_subtasks: int, transform: str = "log", head: str = "groups") -> dict:
    """Operations per decision of a Linear/ReLU network as the lean code runs it.

    * ``linear``: ``2 * in * out`` per layer (``in`` multiplications and ``in`` additions
      per output, the bias included);
    * ``activations``: one ReLU (a max) per hidden unit;
    * ``features``: 2|A| + 5 divisions (:func:`kdoffload.features`);
    * ``input_pipeline``: per feature 4 for "log" (floor, log, minus mean, divided by
      std; a log counts as one operation), 2 for "standard", 0 for "none";
    * ``argmax``: comparisons, 2 per group of 3 (``head="groups"``, the MLP policies) or
      outputs - 1 (``head="actions"``, one argmax over the DQN's actions).

    ``flops`` = linear + activations (the network proper); ``total`` adds the rest.
    """
    shapes = [(int(a), int(b)) for a, b in layer_shapes]
    width = feature_width(int(num_subtasks))
    linear = sum(2 * fan_in * fan_out for fan_in, fan_out in shapes)
    activations = sum(fan_out for _, fan_out in shapes[:-1])
    pipeline = {"log": 4, "standard": 2, "none": 0}[transform] * width
    if head == "groups":
        argmax = 2 * (shapes[-1][1] // NUM_LOCATIONS)
    elif head == "actions":
        argmax = shapes[-1][1] - 1
    else:
        raise ValueError(f"unknown head {head!r}; choose 'groups' or 'actions'")
    flops = linear + activations
    return {
        "total": flops + width + pipeline + argmax, "flops": flops, "linear": linear, "activations": activations,
        "features": width, "input_pipeline": pipeline, "argmax": argmax, "dtype": "float32",
        "counted": "2·in·out per layer + one max per hidden unit (flops), plus 2|A|+5 feature divisions, "
                   "the input pipeline (log: 4 per feature) and the argmax comparisons",
    }


def load_lean(path, name: str | None = None) -> LeanMLP:
    """Read a file written by :func:`export_lean` as a :class:`LeanMLP` (numpy only).

    Raises :class:`LeanFormatError` if the file is truncated, not a lean weight file,
    corrupt, or holds layer shapes that do not chain or do not fit its |A|.
    """
    header, values = _read(path)
    if name is not None:
        header = dict(header, name=name)
    return LeanMLP(header, values)


# --------------------------------------------------------------------------- decisions as rows

#: Up to this |A|, per-request policies return a copy of a row of a precomputed table of
#: all 3^|A| decisions (6,561 rows at |A| = 8); beyond it, the base-3 digits are computed.
TABLE_MAX_SUBTASKS = 8
_ROW_TABLES: dict[int, np.ndarray] = {}


def decision_table(num_subtasks: int) -> np.ndarray:
    """All 3^|A| decisions as a read-only (3^|A|, 1, |A|) int64 array: row ``k`` is decision
    ``k`` of :func:`kdoffload.solvers.all_decisions` (lexicographic, ``I_0`` most
    significant), i.e. the base-3 digits of ``k``."""
    table = _ROW_TABLES.get(num_subtasks)
    if table is None:
        codes = np.arange(NUM_LOCATIONS ** num_subtasks, dtype=np.int64)[:, None]
        places = NUM_LOCATIONS ** np.arange(num_subtasks - 1, -1, -1, dtype=np.int64)
        table = ((codes // places) % NUM_LOCATIONS).reshape(-1, 1, num_subtasks)
        table.setflags(write=False)
        _ROW_TABLES[num_subtasks] = table
    return table


def decide_each(one, req: Requirements) -> np.ndarray:
    """Decisions (n, |A|) of ``one(E, D, p1, p2, b1, b2)`` (a decision code from plain Python
    numbers) applied to each request of ``req`` in turn."""
    if req.n == 1:
        codes = [one(req.E[0].tolist(), req.D[0].tolist(), *req.p1.tolist(), *req.p2.tolist(),
                     *req.b1.tolist(), *req.b2.tolist())]
    else:
        rows = zip(req.E.tolist(), req.D.tolist(), req.p1.tolist(), req.p2.tolist(), req.b1.tolist(),
                   req.b2.tolist())
        codes = [one(*row) for row in rows]
    return decision_rows(codes, req.num_subtasks)


def decision_rows(codes: list[int], num_subtasks: int) -> np.ndarray:
    """Decisions (len(codes), |A|) int64 from their codes ``sum_t I_t 3^(|A|-1-t)``; a new array."""
    if num_subtasks <= TABLE_MAX_SUBTASKS:
        table = decision_table(num_subtasks)
        if len(codes) == 1:
            return table[codes[0]].copy()
        return table[codes].reshape(len(codes), num_subtasks)
    places = NUM_LOCATIONS ** np.arange(num_subtasks - 1, -1, -1, dtype=object)
    return ((np.array(codes, dtype=object)[:, None] // places) % NUM_LOCATIONS).astype(np.int64)


# --------------------------------------------------------------------------- exact DP, per request


class LeanDynamicProgramming:
    """The exact dynamic program for one request at a time, in plain Python floats.

    The same deployment treatment as :class:`LeanMLP` gives the student, applied to the
    exact solver: no cost tensors, no numpy call per step, the recursion unrolled over
    the three locations. It repeats, operation for operation and in the same float64
    arithmetic, :class:`kdoffload.solvers.DynamicProgramming` on the latency objective
    (cost-to-go backwards, then the smallest location that still finishes within
    ``TIE_RTOL`` of the optimum), so it returns the same decisions, ties included; the
    transfers the vectorised code multiplies by a zero hop (staying put) are left out,
    which changes no value (``x + d * 0.0 == x`` for finite d). Meant for the online
    regime; a batch is decided row by row. :meth:`operations` counts its arithmetic.
    """

    name = "optimal_dp_lean"

    def __init__(self, output_return: bool = True, name: str | None = None):
        from .solvers import TIE_RTOL

        self.output_return = bool(output_return)
        self._slack = 1 + TIE_RTOL
        if name:
            self.name = name

    def decide(self, req: Requirements) -> np.ndarray:
        return decide_each(self._one, req)

    def _one(self, E, D, p1, p2, b1, b2) -> int:
        """The decision's code (``sum_t I_t 3^(|A|-1-t)``) for one requirement."""
        h1 = 1.0 / b1          # device <-> edge, seconds per byte
        h2 = 1.0 / b2          # edge <-> cloud
        h12 = h1 + h2          # device <-> cloud, relayed through the edge
        num = len(E)
        # cost to go of the last subtask at each location, the return of the output included
        e = E[num - 1]
        if self.output_return:
            out = D[num]
            c0, c1, c2 = e / p1, e / p2 + out * h1, out * h12
        else:
            c0, c1, c2 = e / p1, e / p2, 0.0
        ctg = [None] * num
        ctg[num - 1] = (c0, c1, c2)
        for t in range(num - 2, -1, -1):
            d, e = D[t + 1], E[t]
            a, b = d * h1 + c1, d * h12 + c2   # from the device: to the edge, to the cloud
            best0 = c0 if c0 <= a else a
            best0 = best0 if best0 <= b else b
            a, b = d * h1 + c0, d * h2 + c2    # from the edge: to the device, to the cloud
            best1 = a if a <= c1 else c1
            best1 = best1 if best1 <= b else b
            a, b = d * h12 + c0, d * h2 + c1   # from the cloud: to the device, to the edge
            best2 = a if a <= b else b
            best2 = best2 if best2 <= c2 else c2
            c0, c1, c2 = best0 + e / p1, best1 + e / p2, best2
            ctg[t] = (c0, c1, c2)
        d = D[0]
        a, b = d * h1 + c1, d * h12 + c2
        best = c0 if c0 <= a else a
        threshold = (best if best <= b else b) * self._slack
        code, previous, spent = 0, 0, 0.0
        for t in range(num):
            d, (c0, c1, c2) = D[t], ctg[t]
            if previous == 0:
                m0, m1, m2 = 0.0, d * h1, d * h12
            elif previous == 1:
                m0, m1, m2 = d * h1, 0.0, d * h2
            else:
                m0, m1, m2 = d * h12, d * h2, 0.0
            if spent + m0 + c0 <= threshold:
                previous, spent = 0, spent + (m0 + E[t] / p1)
            elif spent + m1 + c1 <= threshold:
                previous, spent = 1, spent + (m1 + E[t] / p2)
            else:
                previous, spent = 2, spent + m2
            code = 3 * code + previous
        return code

    def operations(self, num_subtasks: int) -> dict:
        """Arithmetic operations per decision, counted as :meth:`_one` performs them.

        float64 additions, multiplications, divisions and comparisons; the branches on the
        previous location and the integer code of the decision are not counted. The
        forward pass is counted at its worst (both feasibility tests made, then the edge).
        """
        num = int(num_subtasks)
        setup = 3                                        # 1/b1, 1/b2, their sum
        last = 5 if self.output_return else 2            # e/p1; e/p2 + out*h1; out*h12
        recursion = (num - 1) * 22                       # 3 x (2 mul + 2 add + 2 cmp); 2 div + 2 add
        threshold = 7                                    # 2 mul + 2 add + 2 cmp; times the slack
        forward = num * 11                               # 2 mul; 2 x (2 add + 1 cmp); 1 div + 2 add
        return {"total": setup + last + recursion + threshold + forward, "setup": setup, "last_subtask": last,
                "recursion": recursion, "threshold": threshold, "forward": forward, "dtype": "float64",
                "counted": "float64 additions, multiplications, divisions and comparisons of the per-request "
                           "code (no multiplication by a zero hop); the forward pass at its worst; branches "
                           "and the integer code of the decision not counted"}
