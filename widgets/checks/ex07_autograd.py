"""Checks for exercise 7, build your own autograd.

Students write a micrograd-style scalar engine: a ``Value`` has ``data``, ``grad``, its
inputs in ``_prev``, its operation's name in ``_op`` and a ``_backward()`` closure that
adds ``out.grad × ∂out/∂input`` into each input's ``grad``. The checks of tasks 1–3 call
that closure directly (so they need no ``backward()`` yet); task 4 compares
``backward()`` with PyTorch on expressions drawn from a local generator, and watches the
order in which it calls the closures. Tasks 5–6 train a 2-layer network on moons with the
student's engine; :func:`stepper` replays it in the course's ``BackpropStepper``.
"""

from __future__ import annotations

import math
import operator
import random

from widgets.checks import Checker, Hints
from widgets.checks.ex07_common import (
    FIXED_PROGRAMS,
    _close,
    _expect,
    _node,
    _number,
    describe_program,
    random_program,
    run_program,
    torch_gradients,
)
from widgets.checks.ex07_training import stepper, train, two_layer_net

__all__ = [
    "add",
    "backward",
    "hint",
    "log",
    "power",
    "relu_and_exp",
    "stepper",
    "train",
    "two_layer_net",
]

hint = Hints(
    {
        1: [
            "Follow the worked example __mul__: make the new node from the inputs' numbers, "
            "remember the inputs and the operation's name, and give it a _backward closure.",
            "∂(a + b)/∂a = ∂(a + b)/∂b = 1: each input receives the gradient arriving at the "
            "sum unchanged. Wrap a plain number in a Value first, as __mul__ does.",
            "In _backward: a.grad grows by 1 · out.grad, b.grad grows by 1 · out.grad. "
            "Python evaluates 3 + a as a.__radd__(3), which is the same sum.",
        ],
        2: [
            "The exponent k is a plain number, not a node: the new node has one input.",
            "d(x^k)/dx = k · x^(k−1). Name the operation '**' followed by k (e.g. '**2'): "
            "the stepper reads the exponent from it.",
            "In _backward: x.grad grows by k · x^(k−1) · out.grad.",
        ],
        3: [
            "relu(x) = max(x, 0); its slope is 1 where x > 0 and 0 elsewhere (PyTorch takes "
            "0 at exactly x = 0).",
            "exp is its own derivative: d e^x/dx = e^x, which the output node already holds.",
            "relu: x.grad grows by [x > 0] · out.grad. exp: x.grad grows by e^x · out.grad.",
        ],
        4: [
            "A node may pass its gradient on only once every node that uses it has added its "
            "share: that order is a topological order of the graph, reversed.",
            "Kahn's algorithm: walk the graph once from the output (keep a set of the nodes "
            "seen) and count, for each node, how many nodes have it in their _prev. A node "
            "is ready when that count has dropped to 0; the output is ready first.",
            "Set every grad to 0 and the output's to 1. Then, while a node is ready: run its "
            "_backward(), take 1 off the count of each of its inputs, and mark an input ready "
            "when its count reaches 0.",
        ],
        5: [
            "A hidden unit j computes relu(Σ_k W1[j][k] · x[k] + b1[j]); the output is "
            "Σ_j W2[0][j] · h[j] + b2[0].",
            "Python's sum(terms, start) adds a list of Values to a start value (the bias).",
            "Return a single Value, the score: positive means class +1.",
        ],
        6: [
            "One step: draw batch_size indices, compute the mean hinge loss over them, "
            "backward(), then move every parameter against its gradient.",
            "The hinge loss of one example is relu(1 − y · s) with s = model(x) and y = ±1. "
            "Draw the batch with rng = random.Random(seed) and rng.sample(...).",
            "Update: p.data ← p.data − lr · p.grad for p in model.parameters(). Append the "
            "loss's number (.data) to the list you return.",
        ],
        7: [
            "d ln x/dx = 1/x, defined for x > 0 only.",
            "Name the operation 'log'; in _backward x.grad grows by (1/x) · out.grad.",
        ],
    }
)


def _remembers(check, out, inputs, *, what: str, case: str) -> None:
    prev = list(getattr(out, "_prev", ()))
    if any(not any(p is node for p in prev) for node in inputs):
        check.fail(
            f"the result of {what} does not remember its inputs: pass them as _children "
            "(they become _prev), or backward() cannot reach them.",
            case=case,
        )


def _local_gradients(check, out, inputs, upstream: float, start: float, *, case: str):
    """Run ``out._backward()`` with ``out.grad = upstream`` and inputs' grads at ``start``:
    what each input's grad became."""
    for node in inputs:
        node.grad = start
    out.grad = upstream
    check.call(out._backward, case=case)
    return [node.grad for node in inputs]


def _check_rule(check, cls, what, build, inputs, value, local, *, case, mistakes=()):
    """One operation's case: value, remembered inputs, and the local gradients (with a
    gradient already present in the inputs, so that overwriting shows)."""
    leaves = [check.call(cls, x, case=case) for x in inputs]
    out = _node(
        check, cls, check.call(build, *leaves, case=case), what=what, case=case, inputs=leaves
    )
    _expect(check, out.data, value, what=f"the data of {what}", case=case)
    distinct = list({id(node): node for node in leaves}.values())
    _remembers(check, out, distinct, what=what, case=case)
    upstream, start = 0.7, 0.25
    grads = _local_gradients(check, out, distinct, upstream, start, case=case)
    for node, grad, slope in zip(distinct, grads, local, strict=True):
        name = "the input" if len(distinct) == 1 else f"input {leaves.index(node) + 1}"
        want = start + upstream * slope
        contribution = upstream * slope
        _expect(
            check,
            grad,
            want,
            what=f"{name}'s grad after _backward()",
            case=case,
            mistakes=[
                *((start + upstream * wrong, text) for wrong, text in mistakes),
                (start, "_backward() did not change it: add out.grad × ∂out/∂input into it."),
                (
                    contribution,
                    "_backward() replaced the gradient already there; a node used in several "
                    "places collects one contribution from each, so add into .grad.",
                ),
                (
                    start + slope,
                    "the factor out.grad (the gradient arriving from above) is "
                    "missing from the chain rule.",
                ),
            ],
        )
    return out


# --------------------------------------------------------------------------- tasks 1-3
def add(cls):
    """Task 1: ``a + b``, ``a + 3`` and ``3 + a`` with their local gradients."""
    with Checker("Task 1 · __add__ and __radd__") as check:
        cases = [
            ("Value(1.5) + Value(-0.25)", operator.add, (1.5, -0.25), 1.25, (1.0, 1.0)),
            ("a + a (one node used twice)", lambda a, _: a + a, (0.5, 0.5), 1.0, (2.0,)),
            ("Value(2) + 3 (a plain number)", lambda a: a + 3, (2.0,), 5.0, (1.0,)),
            ("3 + Value(-1.5) (the number first)", lambda a: 3 + a, (-1.5,), 1.5, (1.0,)),
        ]
        for case, build, inputs, value, local in cases:
            if case.startswith("a + a"):
                a = check.call(cls, inputs[0], case=case)
                out = _node(
                    check,
                    cls,
                    check.call(build, a, a, case=case),
                    what="a + a",
                    case=case,
                    inputs=[a],
                )
                _expect(check, out.data, value, what="the data of a + a", case=case)
                (grad,) = _local_gradients(check, out, [a], 0.7, 0.0, case=case)
                _expect(
                    check,
                    grad,
                    1.4,
                    what="a's grad after _backward() of a + a",
                    case=case,
                    mistakes=[
                        (
                            0.7,
                            "a is used twice, so it must receive two contributions "
                            "of out.grad; the second replaced the first instead of adding.",
                        )
                    ],
                )
            elif case.startswith("3 +"):
                try:
                    3 + check.call(cls, inputs[0], case=case)
                except TypeError as error:
                    if "unsupported operand" in str(error):
                        check.fail(
                            "3 + a raised TypeError: Python asks the number first, then "
                            "calls a.__radd__(3), so define __radd__.",
                            case=case,
                        )
                except Exception:  # reported below, with the student's line
                    pass
                _check_rule(check, cls, "3 + a", build, inputs, value, local, case=case)
            else:
                _check_rule(check, cls, case.split(" (")[0], build, inputs, value, local, case=case)
            check.passed_case()
    return check.report


def power(cls):
    """Task 2: ``x ** k`` for a constant k, with the exponent written into ``_op``."""
    with Checker("Task 2 · __pow__") as check:
        for x, k in ((1.5, 2), (-0.8, 3), (2.0, -1), (4.0, 0.5)):
            case = f"Value({x:g}) ** {k:g}"
            out = _check_rule(
                check,
                cls,
                f"x ** {k:g}",
                lambda node, k=k: node**k,
                (x,),
                x**k,
                (k * x ** (k - 1),),
                case=case,
                mistakes=[
                    (k * x**k, "the power drops by one in the derivative: k · x^(k−1)."),
                    (x ** (k - 1), "the factor k is missing from k · x^(k−1)."),
                    ((k - 1) * x ** (k - 1), "the factor is k, the exponent, not k − 1."),
                ],
            )
            op = str(getattr(out, "_op", ""))
            try:
                written = float(op[2:]) if op.startswith("**") else None
            except ValueError:
                written = None
            if written != k:
                check.fail(
                    f"the operation's name is {op!r}: write the exponent into it, "
                    f"'**{k:g}' here, so the stepper can show and replay it.",
                    case=case,
                )
            check.passed_case()
    return check.report


def relu_and_exp(cls):
    """Task 3: ``relu()`` (slope 0 at exactly 0, as PyTorch) and ``exp()``."""
    with Checker("Task 3 · relu and exp") as check:
        for x in (1.3, -0.7, 0.0):
            case = f"Value({x:g}).relu()"
            slope = 1.0 if x > 0 else 0.0
            _check_rule(
                check,
                cls,
                "relu",
                lambda node: node.relu(),
                (x,),
                max(x, 0.0),
                (slope,),
                case=case,
                mistakes=[
                    (1.0, "at exactly 0 PyTorch takes the slope 0: only x > 0 passes."),
                    (1.0 - slope, "the slope is 1 where x > 0 and 0 elsewhere."),
                    (max(x, 0.0), "this is relu(x) itself; the slope is 1 or 0."),
                ]
                if x == 0
                else [
                    (1.0 - slope, "the slope is 1 where x > 0 and 0 elsewhere."),
                    (max(x, 0.0), "this is relu(x) itself; the slope is 1 or 0."),
                ],
            )
            check.passed_case()
        for x in (0.5, -1.2):
            case = f"Value({x:g}).exp()"
            _check_rule(
                check,
                cls,
                "exp",
                lambda node: node.exp(),
                (x,),
                math.exp(x),
                (math.exp(x),),
                case=case,
                mistakes=[
                    (x * math.exp(x - 1), "that is the power rule; exp is its own derivative."),
                    (x, "the slope is e^x (the output's data), not x."),
                ],
            )
            check.passed_case()
    return check.report


def log(cls):
    """Stretch task: ``log()`` and its local gradient 1/x."""
    with Checker("Stretch · log") as check:
        for x in (0.5, 3.0):
            case = f"Value({x:g}).log()"
            out = _check_rule(
                check,
                cls,
                "log",
                lambda node: node.log(),
                (x,),
                math.log(x),
                (1 / x,),
                case=case,
                mistakes=[
                    (math.log(x), "this is ln x itself; its slope is 1/x."),
                    (x, "the slope is 1/x, not x."),
                ],
            )
            if out._op != "log":
                check.fail(
                    f"the operation's name is {out._op!r}: name it 'log', so the "
                    "stepper can show it.",
                    case=case,
                )
            check.passed_case()
    return check.report


# --------------------------------------------------------------------------- task 4
def _graph(output) -> list:
    """Every node ``output`` depends on (by identity), through ``_prev``."""
    seen, stack, nodes = set(), [output], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(getattr(node, "_prev", ()))
    return nodes


def _record_calls(nodes) -> list[int]:
    """Make each node's ``_backward`` log its node's id into the returned list when run."""
    calls: list[int] = []
    for node in nodes:
        original = node._backward

        def logged(node=node, original=original):
            calls.append(id(node))
            return original()

        node._backward = logged
    return calls


def backward(cls):
    """Task 4: ``backward()`` against PyTorch: order, accumulation, reset, values."""
    with Checker("Task 4 · backward") as check:
        rng = random.Random(2024)  # the check's own generator: the student's RNG is untouched
        programs = list(FIXED_PROGRAMS) + [
            (f"random expression {n + 1}", random_program(rng)) for n in range(6)
        ]
        for case, program in programs:
            nodes = check.call(
                run_program,
                program,
                lambda x: cls(x),
                lambda node, name: getattr(node, name)(),
                case=case,
            )
            output = nodes[-1]
            leaves = [n for n, step in zip(nodes, program, strict=True) if step[0] == "leaf"]
            graph = _graph(output)
            calls = _record_calls(graph)
            check.call(output.backward, case=case)
            _check_backward_calls(check, output, graph, calls, case)
            value, want = torch_gradients(program)
            _expect(check, output.data, value, what="the output's data", case=case)
            got = [
                _number(check, leaf.grad, what=f"x{i + 1}.grad", case=case)
                for i, leaf in enumerate(leaves)
            ]
            wrong = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if not _close(g, w)]
            if wrong:
                check.fail(
                    f"the gradient of x{wrong[0] + 1} is {got[wrong[0]]:.6g}, PyTorch's differs "
                    "although every node passed its gradient on once, in a right order: look "
                    "at the operations' _backward rules. The expression: "
                    f"{describe_program(program)}.",
                    case=case,
                )
            check.call(output.backward, case=case)
            again = [leaf.grad for leaf in leaves]
            if not all(_close(a, g) for a, g in zip(again, got, strict=True)):
                check.fail(
                    "a second backward() changed the gradients (they added up): set every "
                    "node's grad to 0 before passing gradients on, so backward() can run "
                    "again after the data changed.",
                    case=case,
                )
            check.passed_case()
    return check.report


def _check_backward_calls(check, output, graph, calls, case) -> None:
    """Each inner node's ``_backward`` ran once, after every node that uses it."""
    if not math.isfinite(output.grad) or output.grad != 1.0:
        check.fail(
            f"after backward() the output's own grad is {output.grad!r}; it starts the "
            "chain rule and must be 1 (∂L/∂L = 1).",
            case=case,
        )
    inner = [node for node in graph if list(node._prev)]
    counts = {id(node): calls.count(id(node)) for node in inner}
    if any(count > 1 for count in counts.values()):
        check.fail(
            "backward() ran the _backward of one node more than once, so its gradient was "
            "passed on twice: visit each node once (remember the nodes already seen).",
            case=case,
        )
    if any(count == 0 for count in counts.values()):
        check.fail(
            "backward() never ran the _backward of some nodes: go through every node the "
            "output depends on, not only its direct inputs.",
            case=case,
        )
    position = {node_id: i for i, node_id in enumerate(calls)}
    for node in inner:
        for parent in node._prev:
            if list(parent._prev) and position[id(parent)] < position[id(node)]:
                check.fail(
                    "backward() ran a node's _backward before a node that uses it had added "
                    "its share to the node's gradient: the order is not topological. Run "
                    "each node after every node that uses it (reverse topological order).",
                    case=case,
                )
