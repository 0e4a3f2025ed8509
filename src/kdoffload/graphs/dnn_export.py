"""Export real DNN inference graphs as task graphs: ``python -m kdoffload.graphs.dnn_export``.

Regenerates the JSON files of ``kdoffload/graphs/dnn/`` that :mod:`kdoffload.graphs.dnn`
reads. Needs Hugging Face ``transformers`` (the optional extra ``kdoffload[dnn]``); the
reader does not. Usage::

    python -m kdoffload.graphs.dnn_export [--out DIR] [--models resnet50 vit_b16 ...]

Each model is built from its ``transformers`` configuration class with the DEFAULT
configuration and RANDOM weights (``torch.manual_seed(0)``; nothing is downloaded; the
weights change neither the FLOPs nor the activation sizes), put in ``eval()`` mode and
exported with :func:`torch.export.export` on a batch-1 input:

==============  ===================================  ======================  =====
name            model class                          input                   depth
==============  ===================================  ======================  =====
mobilenet_v2    MobileNetV2ForImageClassification    image 1x3x224x224 f32   3
resnet50        ResNetForImageClassification         image 1x3x224x224 f32   5
vit_b16         ViTForImageClassification            image 1x3x224x224 f32   3
bert_base       BertForSequenceClassification        128 token ids, int64    4
==============  ===================================  ======================  =====

The default configurations are MobileNetV2 1.0 / 224, ResNet-50, ViT-B/16 at 224x224 and
BERT-base, each with a 2-label head (``num_labels=2``, the configuration default; an
ImageNet head of 1000 labels would add under 0.1 % of the FLOPs).

Coarsening (granularity rule)
-----------------------------
Every aten operation of the exported graph carries ``nn_module_stack``, the chain of
modules that called it. An operation belongs to the group of its module cut at
``depth`` calls below the root model (an operation in a shallower module stays with that
module; the root model's own operations form the group ``(root)``). The depths above give
one node per

* mobilenet_v2 (3): convolution layer (expand 1x1, depthwise 3x3, project 1x1 of each
  inverted-residual block, each with its batch norm and ReLU6), plus a node for a block's
  residual addition; the last 1x1 convolution is split into convolution, batch norm and
  ReLU6;
* resnet50 (5): bottleneck part: the three-convolution residual branch, the projection
  shortcut (first block of a stage), the residual addition and the final ReLU; the stem
  is split into its convolution, batch norm, ReLU and max pool;
* vit_b16 (3): transformer sublayer: the pre-attention layer norm, the self-attention
  (with its output projection) and the MLP sublayer (the residual additions, the second
  layer norm, the MLP and the dropouts merge into one node, see below);
* bert_base (4): per encoder layer, the attention block (self-attention, output
  projection, add and layer norm), the intermediate (up projection and GELU) and the output
  block (down projection, add and layer norm); the embeddings are split into the word
  embedding lookup, the sum, the layer norm and the dropout, the pooler into its own
  operations (the [CLS] token), its dense layer and its tanh.

Element-wise-only nodes (an addition, a ReLU, a layer norm) have 0 FLOPs under the
counting below, so 0 cycles: a solver may place them anywhere at no computing cost.

Operations that do not depend on the model input (index ranges, position ids, the
all-true attention mask built from shapes) are computed from parameters and buffers
only; like the weights they are resident at every location, so they belong to no node
and move no data. Their FLOPs are reported apart (``constant_flops``; 0 for these models).

Groups joined by a directed cycle (a module whose own operations run both before and
after one of its children, e.g. the residual additions of a ViT layer around its second
layer norm and MLP) are merged: the strongly connected components of the group graph
become the nodes, so the quotient graph is acyclic. Nodes are numbered in a topological
order (ties broken by first appearance in the exported graph), so every edge goes from a
smaller to a larger index.

Weights
-------
* node FLOPs: :class:`torch.utils.flop_counter.FlopCounterMode` around each exported
  operation (an :class:`torch.fx.Interpreter` running the exported module on the input):
  2 FLOPs per multiply-accumulate of convolutions, matrix products and attention, nothing
  for element-wise operations, normalisations and pooling (the convention of the
  published GMAC figures). The CPU kernel of scaled dot-product attention has no formula
  in torch, so it gets the one of the other attention kernels (:data:`_EXTRA_FORMULAS`);
* edge bytes: ``numel * element size`` of every tensor produced in group ``u`` and
  consumed in group ``v``, counted once per consuming group;
* task input bytes: the model input at each group that consumes it; task output bytes:
  the logits at the group that produces them. Parameters and buffers move nowhere.

Units: FLOPs, bytes.
"""

from __future__ import annotations

import argparse
import datetime
import heapq
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from ..checks import check_choice
from .model import TaskGraph

__all__ = ["MODELS", "ModelSpec", "export_model", "main"]

#: Where the reader (:mod:`kdoffload.graphs.dnn`) finds the committed graphs.
DEFAULT_OUT = Path(__file__).with_name("dnn")
#: Batch size of every export.
BATCH = 1
#: Image side, pixels (the default configurations' ``image_size``).
IMAGE_SIZE = 224
#: Number of tokens of the BERT input.
SEQUENCE_LENGTH = 128
#: Name of the group of the root model's own operations.
ROOT = "(root)"
#: Seed of the random weights and the random input image.
SEED = 0


@dataclass(frozen=True)
class ModelSpec:
    """One model to export: its ``transformers`` classes, its input and its grouping depth.

    Parameters
    ----------
    config : str
        Name of the configuration class in ``transformers`` (built with its defaults).
    model : str
        Name of the model class in ``transformers``.
    input : {"image", "tokens"}
        ``1 x 3 x 224 x 224`` float32 pixels, or ``1 x 128`` int64 token ids.
    depth : int
        Module calls below the root at which operations are grouped (module docstring).
    """

    config: str
    model: str
    input: str
    depth: int


#: The exported models, by the name of their JSON file.
MODELS = {
    "mobilenet_v2": ModelSpec("MobileNetV2Config", "MobileNetV2ForImageClassification", "image", 3),
    "resnet50": ModelSpec("ResNetConfig", "ResNetForImageClassification", "image", 5),
    "vit_b16": ModelSpec("ViTConfig", "ViTForImageClassification", "image", 3),
    "bert_base": ModelSpec("BertConfig", "BertForSequenceClassification", "tokens", 4),
}


def _sdpa_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of scaled dot-product attention from its operand shapes (two batched products)."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


#: FLOP formulas missing from torch's registry: the CPU attention kernel.
_EXTRA_FORMULAS = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_flops}


def build(spec: ModelSpec):
    """The model (random weights, ``eval()``) and its example input tuple."""
    import transformers

    torch.manual_seed(SEED)
    config = getattr(transformers, spec.config)()
    model = getattr(transformers, spec.model)(config).eval()
    if spec.input == "image":
        example = torch.randn(BATCH, 3, IMAGE_SIZE, IMAGE_SIZE)
    else:
        example = torch.randint(0, config.vocab_size, (BATCH, SEQUENCE_LENGTH))
    return model, (example,)


def tensor_bytes(value) -> int:
    """Bytes of all tensors in ``value`` (a tensor or a nested tuple/list), ``numel * element size``."""
    return sum(leaf.numel() * leaf.element_size() for leaf in tree_leaves(value) if isinstance(leaf, torch.Tensor))


class _Profiler(torch.fx.Interpreter):
    """Runs a graph module and records, per FX node, its FLOPs and the bytes of its result."""

    def __init__(self, module: torch.fx.GraphModule, counter: FlopCounterMode):
        super().__init__(module)
        self.counter = counter
        self.flops: dict[str, int] = {}
        self.bytes: dict[str, int] = {}

    def run_node(self, node: torch.fx.Node):
        before = self.counter.get_total_flops()
        result = super().run_node(node)
        self.flops[node.name] = self.counter.get_total_flops() - before
        self.bytes[node.name] = tensor_bytes(result)
        return result


def profile(module: torch.fx.GraphModule, example: tuple) -> tuple[dict, dict, int]:
    """FLOPs and result bytes of each FX node of ``module`` on ``example``, and the total FLOPs."""
    counter = FlopCounterMode(display=False, custom_mapping=_EXTRA_FORMULAS)
    profiler = _Profiler(module, counter)
    with torch.no_grad(), counter:
        profiler.run(*example)
    return profiler.flops, profiler.bytes, counter.get_total_flops()


def module_group(node: torch.fx.Node, depth: int) -> tuple[str, str]:
    """(module path, class name) of the module ``depth`` calls below the root that ran ``node``."""
    stack = list(node.meta.get("nn_module_stack", {}).values())
    if not stack:
        return "", ""
    path, kind = stack[: depth + 1][-1]
    return path, kind


def input_dependent(graph: torch.fx.Graph) -> set[torch.fx.Node]:
    """The call_function nodes that depend (transitively) on a user input placeholder."""
    reached = {node for node in graph.nodes if node.op == "placeholder"}
    for node in graph.nodes:
        if node.op == "call_function" and any(arg in reached for arg in node.all_input_nodes):
            reached.add(node)
    return {node for node in reached if node.op == "call_function"}


def _reachable(successors: dict, start) -> set:
    seen, todo = {start}, [start]
    while todo:
        for nxt in successors[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def merge_cycles(groups: list, arcs: set) -> dict:
    """Map each group to its strongly connected component (a frozenset of groups)."""
    successors = {group: set() for group in groups}
    for u, v in arcs:
        successors[u].add(v)
    reach = {group: _reachable(successors, group) for group in groups}
    return {group: frozenset(other for other in reach[group] if group in reach[other]) for group in groups}


def topological(components: list, arcs: set, first: dict) -> list:
    """``components`` in a topological order of ``arcs``, ties broken by ``first`` (smallest first)."""
    indegree = {c: 0 for c in components}
    successors = {c: set() for c in components}
    for u, v in arcs:
        if v not in successors[u]:
            successors[u].add(v)
            indegree[v] += 1
    ready = [(first[c], i, c) for i, c in enumerate(components) if indegree[c] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        *_, component = heapq.heappop(ready)
        order.append(component)
        for nxt in successors[component]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, (first[nxt], components.index(nxt), nxt))
    return order  # complete: the components of merge_cycles form an acyclic graph


def coarsen(module: torch.fx.GraphModule, depth: int, flops: dict, sizes: dict) -> dict:
    """The quotient task graph of ``module``: nodes, edges, task input and output bytes.

    Returns a dict with ``nodes`` (name, modules, classes, aten_ops, flops, input_bytes,
    output_bytes), ``edges`` (u, v, bytes) and ``constant_flops`` (FLOPs of the
    operations that do not depend on the input).
    """
    graph = module.graph
    live = input_dependent(graph)
    position = {node: i for i, node in enumerate(graph.nodes)}
    group_of = {node: module_group(node, depth) for node in live}
    groups = list(dict.fromkeys(group_of[node] for node in sorted(live, key=position.get)))
    arcs = {(group_of[node], group_of[user]) for node in live for user in node.users
            if user in live and group_of[user] != group_of[node]}
    component_of = merge_cycles(groups, arcs)
    components = list(dict.fromkeys(component_of[g] for g in groups))
    first = {c: min(position[n] for n in live if component_of[group_of[n]] == c) for c in components}
    comp_arcs = {(component_of[u], component_of[v]) for u, v in arcs if component_of[u] != component_of[v]}
    index = {c: i for i, c in enumerate(topological(components, comp_arcs, first))}
    node_of = {node: index[component_of[group_of[node]]] for node in live}

    members = sorted(index, key=index.get)
    nodes = []
    for component in members:
        ordered = [g for g in groups if g in component]
        ops = [n for n in live if component_of[group_of[n]] == component]
        nodes.append({
            "name": " + ".join(path or ROOT for path, _ in ordered),
            "modules": [path for path, _ in ordered],
            "classes": [kind for _, kind in ordered],
            "aten_ops": len(ops),
            "flops": int(sum(flops[n.name] for n in ops)),
            "input_bytes": 0,
            "output_bytes": 0,
        })
    edge_bytes: dict[tuple[int, int], int] = {}
    for node in sorted(live, key=position.get):
        targets = {node_of[user] for user in node.users if user in live} - {node_of[node]}
        for target in sorted(targets):
            key = (node_of[node], target)
            edge_bytes[key] = edge_bytes.get(key, 0) + sizes[node.name]
    for node in graph.nodes:
        if node.op == "placeholder":
            for target in sorted({node_of[user] for user in node.users if user in live}):
                nodes[target]["input_bytes"] += sizes[node.name]
        elif node.op == "output":
            for result in node.all_input_nodes:
                nodes[node_of[result]]["output_bytes"] += sizes[result.name]
    constant = [n for n in graph.nodes if n.op == "call_function" and n not in live]
    return {
        "nodes": nodes,
        "edges": [{"u": u, "v": v, "bytes": b} for (u, v), b in sorted(edge_bytes.items())],
        "constant_flops": int(sum(flops[n.name] for n in constant)),
    }


def check_task_graph(result: dict) -> TaskGraph:
    """The :class:`TaskGraph` of an export (acyclic), checking that input enters only at sources
    and output leaves only at sinks."""
    graph = TaskGraph(len(result["nodes"]), [(e["u"], e["v"]) for e in result["edges"]],
                      names=[node["name"] for node in result["nodes"]])
    for field, allowed, role in (("input_bytes", graph.sources, "source"), ("output_bytes", graph.sinks, "sink")):
        for v, node in enumerate(result["nodes"]):
            if node[field] and not allowed[v]:
                raise RuntimeError(f"{field} must be 0 at non-{role} nodes, got {field} = {node[field]} "
                                   f"at node {v} ({node['name']}); choose another depth")
    return graph


def export_model(name: str) -> dict:
    """Build, export, profile and coarsen the model ``name`` (a key of :data:`MODELS`).

    Returns the JSON document: ``name``, ``provenance``, ``nodes`` and ``edges``.
    """
    import transformers

    spec = MODELS[check_choice("name", name, MODELS)]
    model, example = build(spec)
    with torch.no_grad():
        program = torch.export.export(model, example)
    module = program.module()
    flops, sizes, total = profile(module, example)
    result = coarsen(module, spec.depth, flops, sizes)
    check_task_graph(result)
    (x,) = example
    provenance = {
        "model_class": f"transformers.{spec.model}",
        "config_class": f"transformers.{spec.config}",
        "config": model.config.to_dict(),
        "weights": f"random (torch.manual_seed({SEED})); FLOPs and bytes do not depend on them",
        "batch_size": BATCH,
        "input_shape": list(x.shape),
        "input_dtype": str(x.dtype).removeprefix("torch."),
        "granularity": (f"aten ops of torch.export grouped by nn_module_stack cut at depth {spec.depth} "
                        "below the root model; groups on a directed cycle merged; ops independent of the "
                        "input left out (resident, like the weights)"),
        "depth": spec.depth,
        "flop_counter": "torch.utils.flop_counter.FlopCounterMode, 2 FLOPs per multiply-accumulate",
        "total_flops": int(total),
        "constant_flops": result.pop("constant_flops"),
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "exported": datetime.date.today().isoformat(),
    }
    return {"name": name, "provenance": provenance, **result}


def write(document: dict, out: Path) -> Path:
    """Write ``document`` as ``out/<name>.json`` (one node or edge per line) and return the path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{document['name']}.json"
    lines = ["{", f'"name": {json.dumps(document["name"])},',
             f'"provenance": {json.dumps(document["provenance"], indent=1, sort_keys=True)},']
    for field in ("nodes", "edges"):
        rows = ",\n".join(json.dumps(row) for row in document[field])
        lines.append(f'"{field}": [\n{rows}\n]' + ("," if field == "nodes" else ""))
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Export the chosen models (all by default) and print one summary line each."""
    parser = argparse.ArgumentParser(prog="python -m kdoffload.graphs.dnn_export", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS),
                        help="models to export (default: all)")
    args = parser.parse_args(argv)
    for name in args.models:
        start = time.perf_counter()
        document = export_model(name)
        path = write(document, args.out)
        nodes, edges = document["nodes"], document["edges"]
        print(f"{name}: {len(nodes)} nodes, {len(edges)} edges, {document['provenance']['total_flops'] / 1e9:.3f} "
              f"GFLOPs, {path.stat().st_size / 1e3:.1f} kB, {time.perf_counter() - start:.1f} s -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
