"""The layers hold: `lint-imports` (in `make lint`) passes on the tree and fails on a copy of
it that breaks a contract, so a lower app importing a higher one cannot slip in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first, so `smmpanel` is the package under `tree`, not the installed one.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / "pyproject.toml")],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_tree_keeps_every_contract():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        # The bottom layer reaching for the orders above it.
        ("core/upward.py", "from smmpanel.orders import models\n", "smmpanel.core.upward -> "),
        # A lower layer importing a higher one, lazily inside a function.
        (
            "orders/upward.py",
            "def f():\n    from smmpanel.fulfillment import worker\n",
            "smmpanel.orders.upward -> smmpanel.fulfillment.worker",
        ),
        # The simulator sharing the panel's code.
        ("simulator/shared.py", "from smmpanel.core import money\n", "smmpanel.simulator.shared"),
        # The panel depending on the development simulator.
        ("fulfillment/sim.py", "import smmpanel.simulator.server\n", "smmpanel.fulfillment.sim"),
        # A new app nobody placed in a layer.
        ("payments/__init__.py", "", "smmpanel.payments"),
    ],
)
def test_a_broken_contract_fails(tmp_path: Path, module: str, source: str, broken: str):
    shutil.copytree(
        ROOT / "smmpanel", tmp_path / "smmpanel", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / "smmpanel" / module
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    done = lint_imports(tmp_path)
    assert done.returncode != 0, done.stdout
    # Naming the new module also proves the copy was linted, not the installed package.
    assert broken in done.stdout, done.stdout


def test_each_command_lives_in_the_app_it_operates_on():
    apps = {name: app for name, app in get_commands().items() if app.startswith("smmpanel.")}
    assert apps == {
        "customer_create": "smmpanel.accounts",
        "apikey_create": "smmpanel.accounts",
        "customer_deposit": "smmpanel.billing",
        "ledger_verify": "smmpanel.billing",
        "order_set": "smmpanel.orders",
        "refill_set": "smmpanel.orders",
        "provider_add": "smmpanel.providers",
        "provider_import": "smmpanel.providers",
        "worker": "smmpanel.fulfillment",
        "simulator": "smmpanel.simulator",
        "demo_seed": "smmpanel.ops",
        "serve": "smmpanel.ops",
        "up": "smmpanel.ops",
    }
