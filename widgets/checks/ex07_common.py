"""What exercise 7's checks share: reading the student's numbers and nodes, and the
expressions task 4 compares with PyTorch (built the same way from the student's ``Value``
and from float64 tensors)."""

from __future__ import annotations

import math
import random

import torch

from widgets.checks import Checker

TOLERANCE = 1e-9  # float64 on both sides: only rounding separates a right answer from torch


def _close(got: float, want: float, tolerance: float = TOLERANCE) -> bool:
    return abs(got - want) <= tolerance * max(1.0, abs(got), abs(want))


def _number(check: Checker, got, *, what: str, case: str) -> float:
    """``got`` as a finite float, or a one-sentence failure (None, not a number, NaN)."""
    if got is None:
        check.fail(f"{what} is None: did you forget a `return`?", case=case)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        check.fail(f"{what} should be a number, got a {type(got).__name__}.", case=case)
    if math.isnan(got):
        check.fail(f"{what} is NaN.", case=case)
    if math.isinf(got):
        check.fail(f"{what} is infinite.", case=case)
    return float(got)


def _node(check: Checker, cls, out, *, what: str, case: str, inputs=()):
    """``out`` is a new node of the student's class with a finite ``data``."""
    if out is None:
        check.fail(f"{what} returned None: did you forget `return out`?", case=case)
    if not isinstance(out, cls):
        check.fail(f"{what} should give a new Value, got a {type(out).__name__}.", case=case)
    if any(out is node for node in inputs):
        check.fail(
            f"{what} returned one of its inputs: create a new Value for the result.", case=case
        )
    _number(check, out.data, what=f"the data of {what}", case=case)
    return out


def _expect(check, got: float, want: float, *, what: str, case: str, mistakes=()):
    """Fail unless ``got`` is ``want``; a matching mistake adds its explanation."""
    got = _number(check, got, what=what, case=case)
    if _close(got, want):
        return
    for wrong, explanation in mistakes:
        if _close(got, wrong):
            check.fail(f"{what} is {got:.6g}: {explanation}", case=case)
    check.fail(f"{what} is {got:.6g}, expected {want:.6g}.", case=case)


# --------------------------------------------------------------------------- task 4's expressions
_OPERATIONS = ("+", "*", "number +", "number *", "**2", "**3", "**-1", "relu", "tanh", "exp")


def random_program(rng: random.Random, n_leaves: int = 3, n_operations: int = 9):
    """A random expression as steps ``(op, operand indices, constant)``, with reuse.

    Operands are drawn from everything computed so far, recent nodes more often, so
    nodes are often used twice. Inputs stay where every operation is finite and away
    from relu's kink, and the result depends on the last node.
    """
    values = [round(rng.uniform(0.3, 1.8) * rng.choice((-1, 1)), 2) for _ in range(n_leaves)]
    program: list[tuple] = [("leaf", (), v) for v in values]
    while len(program) < n_leaves + n_operations:
        op = rng.choice(_OPERATIONS)
        n = len(values)
        i = rng.randrange(max(0, n - 3), n)
        j = rng.randrange(n)
        x, y = values[i], values[j]
        constant = round(rng.uniform(-2, 2), 1) or 1.5
        value = _float_operation(op, x, y, constant)
        if not math.isfinite(value) or abs(value) > 20 or (abs(value) < 1e-3 and op != "relu"):
            continue
        operands = (i, j) if op in ("+", "*") else (i,)
        program.append((op, operands, constant))
        values.append(value)
    return program


def _float_operation(op: str, x: float, y: float, constant: float) -> float:
    """``op`` on plain floats; NaN where the check keeps away (a kink, a pole, overflow)."""
    if op == "+":
        return x + y
    if op == "*":
        return x * y
    if op == "number +":
        return constant + x
    if op == "number *":
        return constant * x
    if op == "**-1":
        return 1 / x if abs(x) > 0.3 else math.nan
    if op.startswith("**"):
        return x ** int(op[2:])
    if op == "relu":
        return max(x, 0.0) if abs(x) > 0.05 else math.nan
    if op == "tanh":
        return math.tanh(x)
    return math.exp(x) if x < 2 else math.nan


def _formula(op: str, args: list[str], constant: float) -> str:
    if op in ("+", "*"):
        return f"{args[0]} {op} {args[1]}"
    if op.startswith("number"):
        return f"{constant:g} {op[-1]} {args[0]}"
    if op.startswith("**"):
        return f"{args[0]}{op}"
    return f"{args[0]}.{op}()"


def run_program(program, leaf, unary):
    """Every node of ``program``, built with ``leaf(number)`` and ``unary(node, name)``."""
    nodes = []
    for op, operands, constant in program:
        args = [nodes[i] for i in operands]
        if op == "leaf":
            nodes.append(leaf(constant))
        elif op == "+":
            nodes.append(args[0] + args[1])
        elif op == "*":
            nodes.append(args[0] * args[1])
        elif op == "number +":
            nodes.append(constant + args[0])
        elif op == "number *":
            nodes.append(constant * args[0])
        elif op.startswith("**"):
            nodes.append(args[0] ** int(op[2:]))
        else:
            nodes.append(unary(args[0], op))
    return nodes


def describe_program(program) -> str:
    """``x1 = 0.5; x2 = -1.2; n3 = x1 * x2; ...`` for the student to rebuild the case."""
    names, lines = [], []
    for op, operands, constant in program:
        args = [names[i] for i in operands]
        if op == "leaf":
            name = f"x{len(names) + 1}"
            lines.append(f"{name} = Value({constant:g})")
        else:
            name = f"n{len(names) + 1}"
            formula = _formula(op, args, constant)
            lines.append(f"{name} = {formula}")
        names.append(name)
    return "; ".join(lines)


def torch_gradients(program) -> tuple[float, list[float]]:
    """The output's value and d output / d leaf for each leaf, by PyTorch (float64)."""
    nodes = run_program(
        program,
        lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True),
        lambda t, name: getattr(torch, name)(t),
    )
    nodes[-1].backward()
    leaves = [n for n, step in zip(nodes, program, strict=False) if step[0] == "leaf"]
    return nodes[-1].item(), [float(n.grad) if n.grad is not None else 0.0 for n in leaves]


FIXED_PROGRAMS = [
    # a diamond: n4 is used by n5 and by n6, and n5 feeds n6 too; a wrong order passes on
    # n4's gradient before n6's share arrived
    (
        "a node used by two later nodes",
        [
            ("leaf", (), 0.8),
            ("leaf", (), -1.3),
            ("leaf", (), 0.6),
            ("*", (0, 1), 0),
            ("+", (3, 2), 0),
            ("**2", (4,), 0),
            ("*", (5, 4), 0),
            ("tanh", (6,), 0),
            ("+", (7, 4), 0),
        ],
    ),
    (
        "x * x + x (a leaf used three times)",
        [
            ("leaf", (), -0.7),
            ("*", (0, 0), 0),
            ("+", (1, 0), 0),
        ],
    ),
]
