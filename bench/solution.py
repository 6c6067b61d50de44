"""Is a found formula the target's formula? SRBench's symbolic-solution rule, with sympy's work bounded.

SRBench (cavalab/srbench, experiment/assess_symbolic_model.py with experiment/symbolic_utils.py, collated in
postprocessing/collate_groundtruth_results.py) calls a model φ̂ a symbolic solution of φ when φ − φ̂ simplifies
to a constant or φ̂ / φ to a constant, φ̂ itself not being 0 or nan. Its floats are rounded first
(`round_floats`: 3 decimals, 0 below 1e-4); here the rule is the same with three choices of our own:

- numbers are rounded to 3 significant digits instead, since our targets hold constants such as G = 6.674e-11
  that 3 decimals would set to 0; each becomes an exact fraction, so no float residue survives a subtraction;
  pi, E and fractions are rounded alike, in both formulas;
- both formulas are multiplied out (sympy `expand`) before they are rounded, so that constants a search spreads
  over several nodes are combined first, and constants the true formula repeats (4*pi*epsilon twice) cancel
  before rounding could make them differ; SRBench's `simplify(ratio=1)` then works on their difference and
  quotient (the record's `formula` is the found one simplified);
- variables carry the sign their target declares (positive, negative or real), so sympy may use it.

Work is bounded: a found formula of more than MAX_OPS operations (sympy `count_ops`) is not checked, and the
check runs in a forked child process (it inherits the expressions; only its JSON answer comes back, nothing
is unpickled) that is stopped after TIMEOUT seconds. Either way the answer is False, with the
reason in the note. SRBench checks only models with a test R² above 0.5; here every found formula is checked.
"""

import json
import multiprocessing

import sympy

from bench.encodings.log import SignedLog
from bench.encodings.scale import Affine, Identity
from bench.errors import UserError

MAX_OPS = 300  # found formulas with more operations are not checked
TIMEOUT = 10.0  # seconds for simplifying and checking one formula
DIGITS = 3  # significant digits every number is rounded to before the comparison


def symbolic_solution(found, target):
    """True when `found` (a sympy expression of the target's variables) is a symbolic solution of `target`."""
    return solution_details(found, target)["symbolic_solution"]


def solution_details(found, target, timeout=TIMEOUT):
    """For a record's details: the found formula simplified (`formula`), its size (`formula_ops`, sympy's
    count_ops), `symbolic_solution` and `symbolic_solution_note` (which rule held, or why not)."""
    signed = variables(target)
    found = found.xreplace({sympy.Symbol(name): symbol for name, symbol in signed.items()})
    truth = target.expr.xreplace({sympy.Symbol(name): symbol for name, symbol in signed.items()})
    ops = int(sympy.count_ops(found))
    unchecked = {"formula": str(found), "formula_ops": ops, "symbolic_solution": False}
    if ops > MAX_OPS:
        return unchecked | {"symbolic_solution_note": f"not checked: {ops} operations, more than {MAX_OPS}"}
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_answer, args=(found, truth, send))
    try:
        child.start()  # refused in a daemonic process (a dask worker's): the check is then undecided
    except (AssertionError, OSError) as error:
        receive.close()
        send.close()
        return unchecked | {"symbolic_solution_note": f"undecided: no child process to bound sympy's time ({error})"}
    send.close()
    try:
        if not receive.poll(timeout):
            return unchecked | {"symbolic_solution_note": f"undecided: sympy took more than {timeout:g} s"}
        answer = json.loads(receive.recv_bytes())
    except EOFError:
        answer = {"error": "the check stopped without an answer"}
    finally:
        child.kill()
        child.join()
        receive.close()
    if "error" in answer:
        return unchecked | {"symbolic_solution_note": f"undecided: sympy failed ({answer['error']})"}
    return answer


def encoded_solution_details(expression, encoder, target):
    """`solution_details` of `expression(columns)`, `columns` being the encoder's in the target's variables; only
    the failed check where the encoder has no symbolic form here, or the target is a data file (no formula)."""
    if target.formula is None:
        return {"symbolic_solution": False, "symbolic_solution_note": "no formula to compare with: a data file"}
    try:
        found = expression(encoded_columns(encoder, target))
    except (ValueError, UserError) as error:  # no symbolic form of the encoding, or a formula the grammar refuses
        return {"symbolic_solution": False, "symbolic_solution_note": str(error)}
    return solution_details(found, target)


def variables(target):
    """Each variable's name -> its sympy symbol, positive, negative or real as its sign rule says."""
    kinds = {"+": {"positive": True}, "-": {"negative": True}}
    return {v.name: sympy.Symbol(v.name, **kinds.get(v.sign, {"real": True})) for v in target.variables}


def encoded_columns(encoder, target):
    """The columns a fitted input encoder outputs, as sympy expressions of the target's variables; ValueError
    for an encoder without a symbolic form here (only raw, minmax, standard and log, composed, have one)."""
    columns = list(variables(target).values())
    for step in [s for _, s in encoder.steps] if hasattr(encoder, "steps") else [encoder]:
        if isinstance(step, Identity):
            continue
        if isinstance(step, Affine):
            columns = [(c - float(shift)) / float(scale) for c, shift, scale in zip(columns, step.shift_, step.scale_)]
        elif isinstance(step, SignedLog):
            logs = [(sympy.log(sympy.Abs(c)) - float(m)) / float(s) for c, m, s in zip(columns, step.mean_, step.std_)]
            columns = logs + [sympy.sign(c) for c, signed in zip(columns, step.signed_) if signed]
        else:
            raise ValueError(f"no symbolic form for the {type(step).__name__} encoding's columns")
    return columns


def rounded(expr):
    """`expr` with every number that is not an integer (floats, fractions, pi, E) rounded to DIGITS
    significant digits, as an exact fraction."""
    expr = expr.evalf()
    return expr.xreplace({a: sympy.Rational(f"{float(a):.{DIGITS}g}") for a in expr.atoms(sympy.Float)})


def decide(found, truth):
    """The details `solution_details` returns, computed (in the child process) by SRBench's rule."""
    formula = sympy.simplify(found, ratio=1)
    details = {"formula": str(formula), "formula_ops": int(sympy.count_ops(formula)), "symbolic_solution": False}
    found, truth = rounded(sympy.expand(found)), rounded(sympy.expand(truth))
    if found.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or not found.free_symbols:
        return details | {"symbolic_solution_note": f"the found formula rounds to {found}: no variable, or not finite"}
    difference = sympy.simplify(truth - found, ratio=1)
    if difference.is_constant():
        return details | {"symbolic_solution": True, "symbolic_solution_note": f"true - found = {difference}"}
    fraction = sympy.simplify(found / truth, ratio=1)
    if fraction.is_constant() and fraction != 0 and fraction.is_finite:
        return details | {"symbolic_solution": True, "symbolic_solution_note": f"found / true = {fraction}"}
    return details | {"symbolic_solution_note": "neither true - found nor found / true simplifies to a constant"}


def _answer(found, truth, connection):
    """The child process: `decide`'s details, or the error it raised, sent back as JSON bytes."""
    try:
        answer = decide(found, truth)
    except Exception as error:  # any sympy failure is an undecided check, never a crashed run
        answer = {"error": f"{type(error).__name__}: {error}"}
    connection.send_bytes(json.dumps(answer).encode())
    connection.close()
