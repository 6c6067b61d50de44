"""Is a found formula the target's formula? SRBench's symbolic-solution rule with an accuracy gate, sympy's work bounded.

SRBench (cavalab/srbench, experiment/assess_symbolic_model.py with experiment/symbolic_utils.py, collated in
postprocessing/collate_groundtruth_results.py) calls a model φ̂ a symbolic solution of φ when φ − φ̂ simplifies
to a constant or φ̂ / φ to a constant, φ̂ itself not being 0 or nan; it checks only models with a test R² above
0.5 and calls R² > 0.999 an accuracy solution. Its floats are rounded first (`round_floats`: 3 decimals, 0 below
1e-4, integers untouched). Here the rule is the same with these choices of our own:

- a symbolic solution must also be accurate: R² > 0.999 (SOLVED_R2) on held-out rows, a fresh draw of
  HELD_OUT_ROWS rows from the target's domain with a fixed seed (never a run's training, validation or test rows),
  the found formula evaluated in float64 against the true y. An offset or a scale that SRBench's rule forgives
  but that ruins the prediction is no solution;
- numbers that are not integers are rounded to 3 significant digits instead, since our targets hold constants such
  as G = 6.674e-11 that 3 decimals would set to 0; each becomes an exact fraction, so no float residue survives a
  subtraction; floats, pi, E, fractions and numeric terms such as sqrt(2) are rounded alike, in both formulas, the
  numbers of one product or sum combined first. Integers stay exact: 1234*x + y is not 1231*x + y;
- both formulas are multiplied out (sympy `expand`) before they are rounded, so that constants a search spreads
  over several nodes are combined first, and constants the true formula repeats (4*pi*epsilon twice) cancel
  before rounding could make them differ; SRBench's `simplify(ratio=1)` then works on their difference and
  quotient (the record's `formula` is the found one simplified);
- a piecewise formula is refused, and a difference or quotient counts as a constant only when it is a finite
  number: sympy calls Piecewise((0, y > 0), (nan, True)) constant;
- variables carry the sign their target declares (positive, negative or real), so sympy may use it.

Work is bounded: a found formula of more than MAX_OPS operations (sympy `count_ops`) is not checked, and the
check runs in a forked child process (it inherits the expressions; only its JSON answer comes back, nothing
is unpickled) that is stopped after TIMEOUT seconds. Either way the answer is False, with the
reason in the note. Every found formula is checked, whatever its R².
"""

import json
import multiprocessing

import numpy as np
import sympy

from bench.data import derive_seed
from bench.encodings.log import SignedLog
from bench.encodings.scale import Affine, Identity
from bench.errors import UserError
from bench.metrics import SOLVED_R2, regression_metrics

MAX_OPS = 300  # found formulas with more operations are not checked
TIMEOUT = 10.0  # seconds for simplifying and checking one formula
DIGITS = 3  # significant digits every number that is not an integer is rounded to before the comparison
HELD_OUT_ROWS = 10_000  # rows of the target's domain the found formula's R² is measured on
HELD_OUT_SEED = derive_seed("symbolic solution", "held-out rows")
NOT_FINITE = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)


def symbolic_solution(found, target):
    """True when `found` (a sympy expression of the target's variables) is a symbolic solution of `target`: equal
    to it up to an offset or a scale, with R² > SOLVED_R2 on held-out rows."""
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
    if not answer["symbolic_solution"]:
        return answer
    r2 = held_out_r2(found, target)
    if not r2 > SOLVED_R2:
        return answer | {"symbolic_solution": False, "symbolic_solution_note": f"{answer['symbolic_solution_note']}, "
                         f"but R² on held-out rows is {r2:.6g}, not above {SOLVED_R2}"}
    return answer | {"symbolic_solution_note": f"{answer['symbolic_solution_note']}; R² on held-out rows {r2:.6g}"}


def held_out_r2(found, target):
    """R² of `found` (a sympy expression of the target's variables, signed or not) against the true y on
    HELD_OUT_ROWS fresh rows of the target's domain, in float64; -inf where the formula is not finite on some row."""
    if found.has(*NOT_FINITE):
        return -np.inf
    X, y, _ = target.sample(HELD_OUT_ROWS, HELD_OUT_SEED)
    signed = variables(target)
    dummies = [sympy.Dummy() for _ in signed]  # anonymous: a variable named like `sqrt` cannot shadow numpy's
    replaced = {sympy.Symbol(name): d for name, d in zip(signed, dummies)} | dict(zip(signed.values(), dummies))
    function = sympy.lambdify(dummies, found.xreplace(replaced), "numpy")
    columns = X.numpy().T
    with np.errstate(all="ignore"):  # a formula that overflows or divides by zero on some row: R² = -inf
        predicted = np.asarray(function(*columns), dtype=np.float64) * np.ones(len(y))
    return regression_metrics(predicted, y.numpy())["r2"]


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
    """`expr` with every number that is not an integer (floats, fractions, pi, E, numeric terms such as sqrt(2))
    rounded to DIGITS significant digits, as an exact fraction; the numbers of one sum or product are combined
    first (4*pi is one number). Integers stay exact."""
    if expr.is_number:
        return rounded_number(expr)
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        numbers = [a for a in expr.args if a.is_number]
        return expr.func(rounded_number(expr.func(*numbers)), *[rounded(a) for a in expr.args if not a.is_number])
    return expr.func(*[rounded(a) for a in expr.args]) if expr.args else expr


def rounded_number(number):
    """`number` rounded to DIGITS significant digits as an exact fraction; an integer, or a number that is not a
    finite real, as it is."""
    if number.is_Integer or not (number.is_real and number.is_finite):
        return number
    return sympy.Rational(f"{float(number):.{DIGITS}g}")


def is_constant(expr):
    """True when `expr` is a constant sympy can name: no variable, finite, and no piecewise branches (sympy's own
    `is_constant` calls Piecewise((0, y > 0), (nan, True)) constant)."""
    return not expr.has(sympy.Piecewise, *NOT_FINITE) and bool(expr.is_constant())


def decide(found, truth):
    """The details `solution_details` returns, computed (in the child process) by SRBench's rule."""
    formula = sympy.simplify(found, ratio=1)
    details = {"formula": str(formula), "formula_ops": int(sympy.count_ops(formula)), "symbolic_solution": False}
    if found.has(sympy.Piecewise) or formula.has(sympy.Piecewise):
        return details | {"symbolic_solution_note": f"the found formula is piecewise ({formula}): refused"}
    found, truth = rounded(sympy.expand(found)), rounded(sympy.expand(truth))
    if found.has(*NOT_FINITE) or not found.free_symbols:
        return details | {"symbolic_solution_note": f"the found formula rounds to {found}: no variable, or not finite"}
    difference = sympy.simplify(truth - found, ratio=1)
    if is_constant(difference):
        return details | {"symbolic_solution": True, "symbolic_solution_note": f"true - found = {difference}"}
    fraction = sympy.simplify(found / truth, ratio=1)
    if is_constant(fraction) and fraction != 0:
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
