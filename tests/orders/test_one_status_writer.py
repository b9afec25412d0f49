"""`order_transition_locked` is the one writer of an order's status (states.py's promise):
no other code may set `status` in an update, or a status would change without its checks,
its refund and its event. Read from the source, so a new writer fails here at once."""

from __future__ import annotations

import ast
from pathlib import Path

import smmpanel

ROOT = Path(smmpanel.__file__).parent
#: Where `status` is written: an order's one writer, and a refill's (refills have their own).
WRITERS = {
    ("orders/services.py", "order_transition_locked"),
    ("orders/services.py", "refill_transition"),
    ("orders/services.py", "_refill_follow_parts"),
    # Payments have a status of their own, with its own one writer.
    ("billing/services.py", "_payment_move"),
}
#: A "status" that is no order's column: API replies, the action table, and the status a
#: new order is created with (its spec, before any row exists).
NOT_WRITES = {
    ("api_v2/actions.py", "_status_of"),
    ("api_v2/actions.py", "refill_status"),
    ("api_v2/views.py", ""),
    ("web/views/api_docs.py", "_actions"),  # the API page's example replies
    ("core/health.py", "healthz"),  # /healthz's reply
    ("orders/subscriptions.py", "_price"),  # a new subscription's spec, before any row exists
}
#: Not the panel's data: the simulator keeps its own orders, in memory.
OUTSIDE = {"simulator/server.py"}
#: Apps whose rows have a `status` of their own, no order's: a ticket's, a payment's.
OTHER_STATUSES = ("support/",)


def _status_writes(tree: ast.AST) -> list[tuple[str, int]]:
    """(enclosing function, line) of every `status=` in an `.update()`/`.save()` call and
    every "status" key of a dict literal (changes gathered for an update)."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "save")
            and any(k.arg == "status" for k in node.keywords)
        ):
            found.append((function, node.lineno))
        if isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "status" for k in node.keys
        ):
            found.append((function, node.lineno))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "status" for t in node.targets
        ):
            found.append((function, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "")
    return found


def test_only_the_transitions_write_a_status():
    strays = []
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in OUTSIDE or "/migrations/" in name or name.startswith(OTHER_STATUSES):
            continue
        for function, line in _status_writes(ast.parse(path.read_text(), name)):
            if (name, function) not in WRITERS | NOT_WRITES:
                strays.append(f"{name}:{line} in {function or 'module'}")
    assert strays == []
