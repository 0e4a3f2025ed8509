"""Task graphs beyond the paper's chain: model, exact solvers, graph families, the chapter's measurements.

Modules, one job each:

* :mod:`~kdoffload.graphs.model` -- the task graph, its requests and summed latency;
* :mod:`~kdoffload.graphs.solvers` -- exact placement: exhaustive, minimum cut, ILP;
* :mod:`~kdoffload.graphs.families` -- random layered DAGs (daggen style), the paper's chain;
* :mod:`~kdoffload.graphs.dnn` -- real DNN inference graphs (MobileNetV2, ResNet-50, ViT-B/16, BERT-base);
* :mod:`~kdoffload.graphs.heuristics` -- greedy, fixed-location and random placements;
* :mod:`~kdoffload.graphs.frontier` -- decision times of the exact solvers, min-cut's misses;
* :mod:`~kdoffload.graphs.placements` -- optimal DNN placements along a bandwidth sweep;
* :mod:`~kdoffload.graphs.figures` and :mod:`~kdoffload.graphs.summary` -- the chapter's figures
  and the Summary's "beyond the paper" rows (imported on their own, not here).

Example::

    from kdoffload import graphs
    req = graphs.random_dag(50, requests=10, seed=1)     # one DAG, 10 requests
    x = graphs.MinCut().decide(req)                       # (10, 50) locations
    graphs.latency(req, x)                                # (10,) seconds
"""

from .dnn import CYCLES_PER_FLOP, DNN_GRAPHS, dnn_graph, dnn_info, dnn_requirements
from .families import (
    B3_RANGE, chain, chain_requirements, layered_dag, paper_chain, preset_ccr, random_dag,
    random_requirements, sample_network, sample_weights,
)
from .heuristics import GRAPH_HEURISTICS, GraphFixedLocation, GraphGreedy, GraphRandom, graph_heuristic
from .model import (
    OBJECTIVES, TOPOLOGIES, GraphRequirements, TaskGraph, cost, cost_terms, edge_terms, hop_matrix, latency,
    makespan, node_terms,
)
from .solvers import ExhaustiveSearch, IntegerProgram, MinCut, solve

__all__ = [
    "CYCLES_PER_FLOP", "DNN_GRAPHS", "dnn_graph", "dnn_info", "dnn_requirements",
    "B3_RANGE", "chain", "chain_requirements", "layered_dag", "paper_chain", "preset_ccr", "random_dag",
    "random_requirements", "sample_network", "sample_weights",
    "GRAPH_HEURISTICS", "GraphFixedLocation", "GraphGreedy", "GraphRandom", "graph_heuristic",
    "OBJECTIVES", "TOPOLOGIES", "GraphRequirements", "TaskGraph", "cost", "cost_terms", "edge_terms", "hop_matrix",
    "latency", "makespan", "node_terms",
    "ExhaustiveSearch", "IntegerProgram", "MinCut", "solve",
]
