"""A node command on the base install names the extra to install: the CLI must recognise every
module the `node` extra brings (cli.main.NODE_EXTRA_MODULES), read here from pyproject.toml and
the distributions installed in this environment."""

from __future__ import annotations

from importlib.metadata import packages_distributions

from sdgcities.cli.main import NODE_EXTRA_MODULES

from .node_extra import node_extra_distributions


def test_the_hint_covers_every_module_of_the_node_extra() -> None:
    by_distribution: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            name = distribution.lower().replace("_", "-")
            by_distribution.setdefault(name, set()).add(module)
    wanted = node_extra_distributions()
    assert "aiosmtpd" in wanted  # guards against a reading that finds nothing
    for distribution in wanted:
        modules = {m for m in by_distribution[distribution] if not m.startswith("_")}
        assert modules, distribution
        assert modules <= NODE_EXTRA_MODULES, (distribution, modules - NODE_EXTRA_MODULES)
