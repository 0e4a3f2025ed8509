"""Real DNN inference graphs as task graphs: MobileNetV2, ResNet-50, ViT-B/16, BERT-base.

The graphs were exported from Hugging Face ``transformers`` models (default
configurations, random weights, batch 1) with ``torch.export`` and coarsened to
layer / block granularity by :mod:`kdoffload.graphs.dnn_export`, which documents the
grouping, the FLOP count and the byte count; the JSON files it wrote ship with the package
(``kdoffload/graphs/dnn/*.json``), so this module needs neither ``transformers`` nor a
download:

============  =====  =====  =========  =======================================
name          nodes  edges  GFLOPs     one node per
============  =====  =====  =========  =======================================
mobilenet_v2  69     78     0.599      convolution layer, residual addition
resnet50      59     74     8.174      bottleneck branch / shortcut / add / ReLU
vit_b16       42     53     35.126     sublayer (layer norm, attention, MLP)
bert_base     45     56     22.348     attention, intermediate, output block
============  =====  =====  =========  =======================================

FLOPs count 2 per multiply-accumulate (ResNet-50: 4.09 GMACs; ViT-B/16: 17.56 GMACs).
A node's weight is its FLOPs; an edge's is the bytes of the activations it carries
(float32); the task input (image or token ids) enters at the nodes that read it and
the logits leave the last node. Weights are resident at every location and move nowhere.

Example::

    from kdoffload import graphs
    network = graphs.sample_network(10, seed=1)             # 10 requests
    req = graphs.dnn_requirements("resnet50", network)
    x = graphs.MinCut().decide(req)                          # (10, 59) locations

Units: FLOPs, cycles, bytes.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources

import numpy as np

from ..checks import check_choice, describe, show
from .model import GraphRequirements, TaskGraph

__all__ = ["DNN_GRAPHS", "CYCLES_PER_FLOP", "dnn_graph", "dnn_info", "dnn_requirements"]

#: Names of the committed graphs (files ``kdoffload/graphs/dnn/<name>.json``).
DNN_GRAPHS = ("mobilenet_v2", "resnet50", "vit_b16", "bert_base")

#: CPU cycles per FLOP, our choice: 1.0, a core that does one floating-point operation per
#: cycle. The model has one cycle count per node, ``E_v``, run at ``p1`` Hz on the device
#: and ``p2`` Hz on the edge (the cloud computes in zero time, as in the paper), so this
#: constant only sets the scale of the work against the presets' frequencies and
#: bandwidths. With 1.0 every node's work lies within the presets' ``E`` range (0, 2e9]
#: cycles (the largest node, a ViT-B/16 MLP sublayer, has 1.86e9 FLOPs), and a whole
#: ResNet-50 (8.2e9 cycles) is about the paper's whole six-subtask task (mean 6e9
#: cycles). Real SIMD cores do more: two 128-bit fused multiply-add units reach 16
#: float32 FLOPs per cycle at peak (0.0625 cycles/FLOP); pass ``cycles_per_flop`` to
#: model such hardware.
CYCLES_PER_FLOP = 1.0

#: Network fields every request needs (``b3`` is needed only with ``topology="direct"``).
NETWORK_KEYS = ("p1", "p2", "b1", "b2")


def _positive(name: str, value) -> float:
    """``value`` as a float if it is a finite real number > 0 (not a bool)."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
            or not 0 < value < np.inf):
        raise ValueError(f"{name} must be a finite number > 0, got {name} = {show(value)}")
    return float(value)


@lru_cache(maxsize=None)
def _document(name: str) -> dict:
    """The parsed JSON of a graph (cached; never handed out, see :func:`dnn_info`)."""
    text = resources.files(__package__).joinpath("dnn", f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def _load(name: str) -> dict:
    return _document(check_choice("name", name, DNN_GRAPHS))


@lru_cache(maxsize=None)
def _graph(name: str) -> TaskGraph:
    document = _document(name)
    return TaskGraph(len(document["nodes"]), [(edge["u"], edge["v"]) for edge in document["edges"]],
                     names=tuple(node["name"] for node in document["nodes"]))


def dnn_graph(name: str) -> TaskGraph:
    """The structure of the DNN ``name`` (one of :data:`DNN_GRAPHS`) as a :class:`TaskGraph`.

    Node names are the module paths of the groups (``" + "``-joined when merged).

    Raises
    ------
    ValueError
        ``name must be one of [...], got name = ...`` for an unknown name.
    """
    _load(name)
    return _graph(name)


def dnn_info(name: str) -> dict:
    """Weights and provenance of the DNN ``name`` (a fresh copy; edit it freely).

    Returns
    -------
    dict
        ``name``; ``names`` (n,) node names; ``modules`` and ``classes`` (n lists) of
        the modules of each node; ``flops`` (n,) int64, FLOPs per node; ``edges`` (m, 2)
        int64; ``data`` (m,) int64, bytes per edge; ``input_data`` and ``output_data``
        (n,) int64, bytes of task input / output per node; ``total_flops`` (FLOPs of the
        whole forward pass); ``provenance`` (model and configuration classes, the
        configuration, batch size, input shape and dtype, grouping depth and rule, FLOP
        counter, torch and transformers versions, export date, ``total_flops`` and
        ``constant_flops``).
    """
    document = _load(name)
    nodes, edges = document["nodes"], document["edges"]

    def column(rows, key):
        return np.array([row[key] for row in rows], dtype=np.int64)

    return {
        "name": document["name"],
        "names": tuple(node["name"] for node in nodes),
        "modules": [list(node["modules"]) for node in nodes],
        "classes": [list(node["classes"]) for node in nodes],
        "flops": column(nodes, "flops"),
        "edges": np.array([(edge["u"], edge["v"]) for edge in edges], dtype=np.int64).reshape(-1, 2),
        "data": column(edges, "bytes"),
        "input_data": column(nodes, "input_bytes"),
        "output_data": column(nodes, "output_bytes"),
        "total_flops": int(document["provenance"]["total_flops"]),
        "provenance": copy.deepcopy(document["provenance"]),
    }


def _network(network) -> dict:
    """The network fields of ``network`` (a dict like :func:`~kdoffload.graphs.families.sample_network`'s)."""
    if not isinstance(network, dict) or any(key not in network for key in NETWORK_KEYS):
        raise ValueError(f"network must be a dict with keys {list(NETWORK_KEYS)} (and 'b3' for the direct "
                         f"topology), got network = {describe(network)}")
    return {key: network[key] for key in NETWORK_KEYS + ("b3",) if key in network}


def dnn_requirements(name: str, network: dict, cycles_per_flop: float = CYCLES_PER_FLOP, topology: str = "relay",
                     input_scale: float = 1.0) -> GraphRequirements:
    """Requests to place the DNN ``name`` on the networks ``network``.

    Parameters
    ----------
    name : str
        One of :data:`DNN_GRAPHS`.
    network : dict
        ``p1``, ``p2`` (Hz), ``b1``, ``b2`` and optionally ``b3`` (bytes/s), each a scalar
        or an (r,) array, as returned by :func:`~kdoffload.graphs.families.sample_network`;
        ``r`` requests share the graph's weights.
    cycles_per_flop : float
        CPU cycles per FLOP (> 0); node ``v`` needs ``flops[v] * cycles_per_flop``
        cycles. Default :data:`CYCLES_PER_FLOP`.
    topology : {"relay", "direct"}
        See :func:`~kdoffload.graphs.model.hop_matrix`; ``"direct"`` needs ``b3``.
    input_scale : float
        Factor (> 0) on every byte moved: the edges' activations, the task input and the
        task output (1.0: float32 activations as exported; 0.5 would model float16).

    Returns
    -------
    GraphRequirements
        ``cycles`` (n,) in cycles, ``data`` (m,), ``input_data`` and ``output_data``
        (n,) in bytes, broadcast to the ``r`` requests of ``network``.

    Raises
    ------
    ValueError
        Naming the field and its value: an unknown ``name``, a ``cycles_per_flop`` or
        ``input_scale`` that is not a finite number > 0, a ``network`` without the keys,
        or a bad network value (from :class:`GraphRequirements`).
    """
    info = dnn_info(name)
    cycles_per_flop = _positive("cycles_per_flop", cycles_per_flop)
    input_scale = _positive("input_scale", input_scale)
    return GraphRequirements(
        dnn_graph(name),
        cycles=info["flops"] * cycles_per_flop,
        data=info["data"] * input_scale,
        input_data=info["input_data"] * input_scale,
        output_data=info["output_data"] * input_scale,
        topology=topology,
        **_network(network),
    )
