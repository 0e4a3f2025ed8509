"""Real DNN task graphs: the committed JSON against hand-worked FLOPs and bytes, the reader, the exporter.

Hand values (float32 = 4 bytes; 2 FLOPs per multiply-accumulate, MAC):

* ResNet-50 stem: a 7x7 convolution, 3 -> 64 channels, on a 112x112 output: 64 * 3 * 49 *
  112 * 112 MACs; its max-pooled output is 64 x 56 x 56 floats = 802,816 bytes.
* ViT-B/16 (197 tokens of 768): attention = q, k, v, o projections (4 * 197 * 768^2 MACs)
  plus scores and weighted sum (2 * 197^2 * 768 MACs); MLP = 2 * 197 * 768 * 3072 MACs; a
  layer's output is 197 * 768 floats = 605,184 bytes.
* BERT-base (128 tokens): per layer 4 * 128 * 768^2 + 2 * 128 * 768 * 3072 + 2 * 128^2 * 768
  MACs; the intermediate activation is 128 * 3072 floats = 1,572,864 bytes.
* Published totals: ResNet-50 4.1 GMACs (8.2 GFLOPs), MobileNetV2 0.30 GMACs (Sandler et al.
  2018: 300M multiply-adds), ViT-B/16 17.6 GMACs (the "17.6 GFLOPs" of the DeiT / torchvision
  tables count one multiply-add as one FLOP, so 35.2 GFLOPs here).
"""

from __future__ import annotations

import json
import time
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from kdoffload import graphs as G

IMAGE_BYTES = 3 * 224 * 224 * 4
LOGIT_BYTES = 2 * 4  # the default configurations' two labels
TOKEN_BYTES = 128 * 8  # int64 token ids
BERT_MACS = 12 * (4 * 128 * 768**2 + 2 * 128 * 768 * 3072 + 2 * 128**2 * 768) + 768**2  # + pooler
PUBLISHED_FLOPS = {"resnet50": 8.2e9, "mobilenet_v2": 2 * 0.30e9, "vit_b16": 2 * 17.6e9, "bert_base": 2 * BERT_MACS}
TOLERANCE = 0.15
PROVENANCE_FIELDS = ("model_class", "config_class", "config", "batch_size", "input_shape", "input_dtype",
                     "granularity", "depth", "flop_counter", "total_flops", "constant_flops", "torch_version",
                     "transformers_version", "exported")
DNN_FOLDER = resources.files("kdoffload.graphs").joinpath("dnn")


def node(info: dict, name: str) -> int:
    return info["names"].index(name)


def edge_bytes(info: dict, u: str, v: str) -> int:
    pair = [node(info, u), node(info, v)]
    (rows,) = np.nonzero((info["edges"] == pair).all(axis=1))
    assert len(rows) == 1, f"no edge {u} -> {v}"
    return int(info["data"][rows[0]])


@pytest.mark.parametrize("name", G.DNN_GRAPHS)
def test_graph_loads_acyclic_and_small(name):
    graph, info = G.dnn_graph(name), G.dnn_info(name)
    assert isinstance(graph, G.TaskGraph) and 20 <= graph.num_nodes <= 150
    assert len(set(graph.names)) == graph.num_nodes and graph.names == info["names"]
    np.testing.assert_array_equal(graph.edges, info["edges"])
    assert (graph.edges[:, 0] < graph.edges[:, 1]).all()  # numbered in a topological order
    assert (info["flops"] >= 0).all() and (info["data"] > 0).all()
    assert info["flops"].sum() + info["provenance"]["constant_flops"] == info["total_flops"]
    assert graph.sources.sum() == 1 and graph.sinks.sum() == 1
    assert Path(str(DNN_FOLDER.joinpath(f"{name}.json"))).stat().st_size < 200_000


def test_committed_files_are_the_listed_graphs_and_package_data():
    files = sorted(path.name for path in DNN_FOLDER.iterdir() if path.name.endswith(".json"))
    assert files == sorted(f"{name}.json" for name in G.DNN_GRAPHS)
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "graphs/dnn/*.json" in pyproject["tool"]["setuptools"]["package-data"]["kdoffload"]


@pytest.mark.parametrize("name", G.DNN_GRAPHS)
def test_total_flops_near_published(name):
    total = G.dnn_info(name)["total_flops"]
    assert abs(total / PUBLISHED_FLOPS[name] - 1) < TOLERANCE, (name, total)


def test_resnet50_stem_by_hand():
    info = G.dnn_info("resnet50")
    assert info["flops"][node(info, "resnet.embedder.embedder.convolution")] == 2 * 64 * 3 * 49 * 112 * 112
    stem = "resnet.embedder.pooler"
    assert edge_bytes(info, stem, "resnet.encoder.stages.0.layers.0.layer") == 64 * 56 * 56 * 4 == 802_816
    assert edge_bytes(info, stem, "resnet.encoder.stages.0.layers.0.shortcut") == 802_816


def test_vit_layer_by_hand():
    info = G.dnn_info("vit_b16")
    attention = node(info, "vit.layers.5.attention")
    (mlp,) = [v for v, modules in enumerate(info["modules"]) if "vit.layers.5.mlp" in modules]
    assert info["flops"][attention] == 2 * (4 * 197 * 768**2 + 2 * 197**2 * 768)
    assert info["flops"][mlp] == 2 * 2 * 197 * 768 * 3072
    assert edge_bytes(info, info["names"][mlp], "vit.layers.6.layernorm_before") == 197 * 768 * 4 == 605_184


def test_bert_layer_by_hand():
    info = G.dnn_info("bert_base")
    assert edge_bytes(info, "bert.encoder.layer.3.intermediate", "bert.encoder.layer.3.output") == 1_572_864
    assert info["flops"][node(info, "bert.encoder.layer.3.intermediate")] == 2 * 128 * 768 * 3072


@pytest.mark.parametrize("name, input_bytes", [("mobilenet_v2", IMAGE_BYTES), ("resnet50", IMAGE_BYTES),
                                                ("vit_b16", IMAGE_BYTES), ("bert_base", TOKEN_BYTES)])
def test_task_input_and_output_bytes(name, input_bytes):
    graph, info = G.dnn_graph(name), G.dnn_info(name)
    np.testing.assert_array_equal(info["input_data"], input_bytes * graph.sources)
    np.testing.assert_array_equal(info["output_data"], LOGIT_BYTES * graph.sinks)


@pytest.mark.parametrize("name", G.DNN_GRAPHS)
def test_provenance(name):
    provenance = G.dnn_info(name)["provenance"]
    assert all(field in provenance for field in PROVENANCE_FIELDS)
    assert provenance["batch_size"] == 1 and provenance["model_class"].startswith("transformers.")
    assert provenance["input_shape"] == ([1, 128] if name == "bert_base" else [1, 3, 224, 224])
    assert provenance["input_dtype"] == ("int64" if name == "bert_base" else "float32")


def test_default_configurations_are_the_named_models():
    config = {name: G.dnn_info(name)["provenance"]["config"] for name in G.DNN_GRAPHS}
    assert config["resnet50"]["depths"] == [3, 4, 6, 3] and config["resnet50"]["layer_type"] == "bottleneck"
    assert (config["vit_b16"]["patch_size"], config["vit_b16"]["image_size"], config["vit_b16"]["hidden_size"],
            config["vit_b16"]["num_hidden_layers"]) == (16, 224, 768, 12)
    assert config["mobilenet_v2"]["depth_multiplier"] == 1.0 and config["mobilenet_v2"]["image_size"] == 224
    assert (config["bert_base"]["hidden_size"], config["bert_base"]["num_hidden_layers"]) == (768, 12)


def test_info_is_a_copy():
    info = G.dnn_info("resnet50")
    info["flops"][:] = 0
    info["provenance"]["total_flops"] = -1
    again = G.dnn_info("resnet50")
    assert again["flops"].sum() > 0 and again["provenance"]["total_flops"] > 0


def test_requirements_scale_flops_and_bytes():
    info = G.dnn_info("vit_b16")
    network = G.sample_network(3, seed=2)
    req = G.dnn_requirements("vit_b16", network, cycles_per_flop=0.25, input_scale=0.5)
    assert len(req) == 3 and req.graph == G.dnn_graph("vit_b16")
    np.testing.assert_array_equal(req.cycles, np.tile(info["flops"] * 0.25, (3, 1)))
    np.testing.assert_array_equal(req.data[1], info["data"] * 0.5)
    np.testing.assert_array_equal(req.input_data[2], info["input_data"] * 0.5)
    np.testing.assert_array_equal(req.output_data[0], info["output_data"] * 0.5)
    np.testing.assert_array_equal(req.p2, network["p2"])
    default = G.dnn_requirements("vit_b16", network)
    np.testing.assert_array_equal(default.cycles[0], info["flops"] * G.CYCLES_PER_FLOP)
    assert G.dnn_requirements("vit_b16", network, topology="direct").topology == "direct"


def test_requirements_solve_exactly():
    req = G.dnn_requirements("mobilenet_v2", G.sample_network(2, seed=4))
    cut, program = G.MinCut().decide(req), G.IntegerProgram().decide(req)
    np.testing.assert_allclose(G.latency(req, cut), G.latency(req, program), rtol=1e-9)


@pytest.mark.parametrize("call, text", [
    (lambda: G.dnn_graph("resnet"), "name = 'resnet'"),
    (lambda: G.dnn_info("ResNet50"), "name = 'ResNet50'"),
    (lambda: G.dnn_requirements("vgg16", {}), "name = 'vgg16'"),
])
def test_unknown_name_lists_the_choices(call, text):
    with pytest.raises(ValueError, match=text) as error:
        call()
    assert all(name in str(error.value) for name in G.DNN_GRAPHS)


@pytest.mark.parametrize("field", ["cycles_per_flop", "input_scale"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_non_positive_factors_raise(field, value):
    with pytest.raises(ValueError, match=f"{field} must be a finite number > 0, got {field} = {value!r}"):
        G.dnn_requirements("resnet50", G.sample_network(1), **{field: value})


def test_bad_network_raises():
    with pytest.raises(ValueError, match=r"network must be a dict with keys \['p1', 'p2', 'b1', 'b2'\].*'p1'"):
        G.dnn_requirements("resnet50", {"p1": 1e9})
    with pytest.raises(ValueError, match="b3 must be given"):
        G.dnn_requirements("resnet50", {"p1": 1e9, "p2": 2e9, "b1": 1e6, "b2": 1e6}, topology="direct")
    with pytest.raises(ValueError, match=r"b1 = -1.0"):
        G.dnn_requirements("resnet50", {"p1": 1e9, "p2": 2e9, "b1": -1.0, "b2": 1e6})


def test_coarsen_merges_a_cycle_and_counts_bytes():
    """A toy model whose block computes before and after its child: the two groups merge."""
    torch = pytest.importorskip("torch")
    from kdoffload.graphs import dnn_export

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.inner(x * 2) + x  # block -> block.inner -> block

    class Toy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pre, self.block, self.head = torch.nn.Linear(3, 4), Block(), torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.block(self.pre(x)))

    example = (torch.ones(1, 3),)
    module = torch.export.export(Toy().eval(), example).module()
    flops, sizes, total = dnn_export.profile(module, example)
    result = dnn_export.coarsen(module, 2, flops, sizes)  # block.inner is 2 calls below the root
    assert [n["name"] for n in result["nodes"]] == ["pre", "block + block.inner", "head"]
    assert [n["flops"] for n in result["nodes"]] == [2 * 3 * 4, 2 * 4 * 4, 2 * 4 * 2] and total == 72
    assert result["edges"] == [{"u": 0, "v": 1, "bytes": 16}, {"u": 1, "v": 2, "bytes": 16}]
    assert [n["input_bytes"] for n in result["nodes"]] == [12, 0, 0]
    assert [n["output_bytes"] for n in result["nodes"]] == [0, 0, 8]
    dnn_export.check_task_graph(result)


@pytest.mark.slow
def test_export_script_reproduces_mobilenet(tmp_path):
    transformers = pytest.importorskip("transformers")
    import torch

    from kdoffload.graphs import dnn_export

    committed = json.loads(DNN_FOLDER.joinpath("mobilenet_v2.json").read_text())
    versions = (committed["provenance"]["torch_version"], committed["provenance"]["transformers_version"])
    if versions != (torch.__version__, transformers.__version__):
        pytest.skip(f"committed graph from torch/transformers {versions}, installed "
                    f"{(torch.__version__, transformers.__version__)}")
    start = time.perf_counter()
    assert dnn_export.main(["--out", str(tmp_path), "--models", "mobilenet_v2"]) == 0
    assert time.perf_counter() - start < 60  # about 15 s alone; generous on a shared machine
    fresh = json.loads((tmp_path / "mobilenet_v2.json").read_text())
    assert fresh["nodes"] == committed["nodes"] and fresh["edges"] == committed["edges"]
    for provenance in (fresh["provenance"], committed["provenance"]):
        provenance.pop("exported")
    assert fresh["provenance"] == committed["provenance"]
