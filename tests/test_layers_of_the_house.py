"""Imports run one way: data, losses, layers -> models -> runs, metrics -> export, benchmarks -> cli.

Read from the source (every import statement, including those inside functions),
so a model that reached up for a run, an export or a metric helper fails here.
"""

import ast
import os

import pytest

import tfgan_models

PACKAGE = os.path.dirname(tfgan_models.__file__)
# layer of each top-level module or subpackage; a module may import its own layer or below
LAYER = {"io": 0, "inputs": 0, "data": 1, "losses": 1, "layers": 1, "registry": 2, "models": 2,
         "callbacks": 3, "runs": 3, "settings": 3, "execution": 3, "metrics": 3, "evaluate": 3,
         "export": 4, "benchmarks": 4, "cli": 5,
         "__init__": 5}


def _modules():
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                yield os.path.relpath(path, PACKAGE).split(os.sep)[0].removesuffix(".py"), path


def _imports(path):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tfgan_models"):
            parts = node.module.split(".")
            if len(parts) > 1:
                yield parts[1], node.lineno
            else:
                yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tfgan_models."):
                    yield alias.name.split(".")[1], node.lineno


@pytest.mark.parametrize("top, path", sorted(_modules()), ids=lambda v: os.path.relpath(v, PACKAGE)
                         if isinstance(v, str) and v.endswith(".py") else None)
def test_imports_run_one_way(top, path):
    mine = LAYER[top]
    upward = [f"line {line}: {target}" for target, line in _imports(path)
              if LAYER.get(target, -1) > mine and target != top]
    assert not upward, f"{os.path.relpath(path, PACKAGE)} (layer {top}) imports from a higher layer: {upward}"


def test_every_module_has_a_layer():
    assert {top for top, _ in _modules()} <= set(LAYER)
