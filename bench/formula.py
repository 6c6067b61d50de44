"""Formulas: a whitelist grammar over Python's `ast`, checked before anything is evaluated, built into sympy
node by node, and compiled to torch. User text never reaches eval, exec, sympify or parse_expr.

A formula may hold numbers, declared names, `pi` and `E`, the FUNCTIONS called by name with positional
arguments, unary + and -, + - * / and powers (`**`, or `^` as sympy's convert_xor reads it). Work is bounded
before sympy sees it: the text's length and nesting, and the size of every power of numbers. Every constant
stays a finite float64, and one that is not exact (a function of numbers, sqrt(2), 2*pi) is folded to a
float, so sympy never holds a constant it cannot evaluate quickly.
"""

import ast
import keyword
import math
import operator
import re
import warnings

import sympy
import torch

from bench.errors import UserError

MAX_CHARS = 2_000
MAX_DEPTH = 100  # levels of brackets, calls and chained operators
MAX_EXPONENT = 1_000  # the largest integer exponent
MAX_DIGITS = 400  # the most decimal digits a power of numbers may carry

_NAMES = ("sqrt", "exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asinh", "atan")
FUNCTIONS = {name: getattr(sympy, name) for name in _NAMES} | {"Abs": sympy.Abs, "abs": sympy.Abs}
_ARGUMENTS = {"log": (1, 2)}  # log(x) or log(x, base); every other function takes one argument
CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_OTHER_OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
                    ast.BitOr: "|", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not"}
_FORBIDDEN = {  # what a user is told was found, by node type
    ast.Lambda: "a lambda", ast.IfExp: "a conditional (`if ... else`)", ast.NamedExpr: "an assignment (`:=`)",
    ast.Compare: "a comparison", ast.BoolOp: "`and`/`or`", ast.JoinedStr: "an f-string",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension", ast.Tuple: "a tuple", ast.List: "a list", ast.Set: "a set",
    ast.Dict: "a dict", ast.Starred: "a starred argument", ast.Await: "`await`", ast.Yield: "`yield`",
    ast.YieldFrom: "`yield`", ast.Slice: "a slice",
}


def parse_formula(text, where, variables=(), constants=None):
    """The sympy expression for `text` (a formula string or a number) over the names in `variables`.

    `constants` (name -> number) are substituted as they are read, so the limits see their values. Anything
    outside the grammar or beyond the limits is a one-line UserError that starts with `where`.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UserError(f"{where}: expected a number or a formula string, got {_quote(text)}")
    if not isinstance(text, str):
        return _number(text, where, repr(text))
    if len(text) > MAX_CHARS:
        raise UserError(f"{where}: the formula is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
    if not text.isascii():
        char = next(c for c in text if not c.isascii())
        raise UserError(f"{where}: non-ASCII character {char!r} in {_quote(text)}; write names and operators "
                        "in ASCII (look-alike letters are refused)")
    if _bracket_depth(text) > MAX_DEPTH:
        raise UserError(f"{where}: brackets nest more than {MAX_DEPTH} deep in {_quote(text)}; simplify it")
    scope = {name: sympy.Symbol(name) for name in variables}
    scope |= {name: _number(value, where, name) for name, value in (constants or {}).items()}
    # `^` is a power, as sympy's convert_xor reads it: swapped before parsing, so it binds like `**`
    source, spelled = _spell_keywords(text.strip().replace("^", "**"), scope)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a parser warning ("invalid decimal literal") is a refusal, not a 2nd line
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise UserError(f"{where}: cannot parse {_quote(text)} ({type(error).__name__}); "
                        "write it like 'x5/x2 - sqrt(x1)*exp(-x3)'") from None
    if _tree_depth(tree.body) > MAX_DEPTH:
        raise UserError(f"{where}: {_quote(text)} nests more than {MAX_DEPTH} levels deep (brackets, calls and "
                        "chained operators count); simplify it")
    builder = _Builder(source, where, CONSTANTS | scope | spelled)
    expr = builder.build(tree.body)
    if builder.unknown:
        raise UserError(f"{where}: unknown name(s) {', '.join(sorted(builder.unknown))}; declare them as variables "
                        f"or constants (known: {', '.join(scope) or 'none'})")
    if expr.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise UserError(f"{where}: {_quote(text)} is not real-valued; remove the imaginary unit or division by 0")
    return expr


class _Builder:
    """The sympy expression of an `ast` tree, built only from whitelisted nodes; `scope` maps names to
    symbols and numbers, and names outside it are collected in `unknown`."""

    def __init__(self, source, where, scope):
        self.source, self.where, self.scope = source, where, scope
        self.unknown = set()

    def build(self, node):
        if isinstance(node, ast.Constant):
            return _number(node.value, self.where, self.segment(node))
        if isinstance(node, ast.Name):
            if node.id in self.scope:
                return self.scope[node.id]
            if node.id in FUNCTIONS:
                raise self.refuse(f"the function `{node.id}` without arguments")
            self.unknown.add(node.id)
            return sympy.Symbol(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            return self.apply(operator.neg if isinstance(node.op, ast.USub) else operator.pos, [node.operand], node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.apply(lambda base, exponent: self.power(base, exponent, node), [node.left, node.right], node)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            return self.apply(_ARITHMETIC[type(node.op)], [node.left, node.right], node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.refuse(self.describe(node))

    def call(self, node):
        if not isinstance(node.func, ast.Name):
            known = type(node.func) in _FORBIDDEN or isinstance(node.func, ast.Attribute)
            raise self.refuse(self.describe(node.func) if known else f"calling `{self.segment(node.func)}`")
        name = node.func.id
        if name not in FUNCTIONS:
            raise UserError(f"{self.where}: unsupported function(s) {name}; use {', '.join(FUNCTIONS)}")
        if node.keywords:
            argument = node.keywords[0].arg
            raise self.refuse(f"the keyword argument `{argument}=`" if argument else "a `**` argument")
        low, high = _ARGUMENTS.get(name, (1, 1))
        if not low <= len(node.args) <= high:
            raise self.refuse(f"`{name}` with {len(node.args)} arguments (it takes {low}"
                              + (f" or {high})" if high > low else ")"))
        return self.apply(FUNCTIONS[name], node.args, node)

    def power(self, base, exponent, node):
        """base**exponent, refused before sympy multiplies anything out when it would be too large."""
        if exponent.is_number:
            if exponent.is_Integer and abs(exponent) > MAX_EXPONENT:
                raise self.refuse(f"`{self.segment(node)}`, an exponent of {float(exponent):.3g} (the limit is "
                                  f"{MAX_EXPONENT})")
            digits = abs(float(exponent)) * sum(_digits(factor) for factor in sympy.Mul.make_args(base)
                                                if factor.is_number)
            if digits > MAX_DIGITS:
                raise self.refuse(f"`{self.segment(node)}`, a power of about {digits:.3g} digits "
                                  f"(the limit is {MAX_DIGITS})")
        return base**exponent

    def apply(self, operation, operands, node):
        """operation(*built operands); a number as a result is checked and folded, and sympy's arithmetic
        errors (0.0/0.0) are refusals too."""
        arguments = [self.build(operand) for operand in operands]
        try:
            value = operation(*arguments)
        except ArithmeticError:
            value = sympy.nan
        return _fold(value, self.where, self.segment(node)) if value.is_number else value

    def refuse(self, what):
        return UserError(f"{self.where}: {what} is not allowed in a formula; use numbers, declared names, "
                         f"+ - * / ** and {', '.join(FUNCTIONS)}")

    def describe(self, node):
        if isinstance(node, ast.Attribute):
            return f"attribute access `.{node.attr}`"
        if isinstance(node, ast.Subscript):
            return f"indexing `{self.segment(node)}`"
        if isinstance(node, ast.UnaryOp | ast.BinOp):
            return f"the operator `{_OTHER_OPERATORS.get(type(node.op), type(node.op).__name__)}`"
        return _FORBIDDEN.get(type(node), f"`{self.segment(node)}`")

    def segment(self, node):
        """The node's text, cut short for a message."""
        return _quote(ast.get_source_segment(self.source, node) or "")[1:-1]


def _number(value, where, shown):
    """A literal as an exact integer or a float64, refused unless it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        found = "a string" if isinstance(value, str | bytes) else f"the literal `{shown}`"
        raise UserError(f"{where}: {found} is not allowed in a formula; use numbers, declared names, + - * / ** "
                        f"and {', '.join(FUNCTIONS)}")
    return _fold(sympy.Integer(value) if isinstance(value, int) else sympy.Float(value, 17), where, shown)


def _fold(value, where, shown):
    """A number kept exact when it is rational, else folded to a float64; refused unless finite and real."""
    try:
        approximation = float(value)
    except (TypeError, OverflowError):  # complex (sqrt(-1)), zoo (1/0), or an integer beyond float64
        approximation = math.nan
    if not math.isfinite(approximation):
        raise UserError(f"{where}: `{shown}` is not a finite real number in float64; change the constant")
    return value if value.is_Rational else sympy.Float(approximation, 17)


def _digits(number):
    """Decimal digits a power of `number` carries per unit of exponent: numerator and denominator for an
    exact number, the magnitude's for a float."""
    if number.is_Rational:
        return (math.log10(abs(number.p)) if number.p else 0.0) + math.log10(number.q)
    magnitude = abs(float(number))
    return abs(math.log10(magnitude)) if magnitude else 0.0


def _spell_keywords(text, scope):
    """Declared names that are Python keywords (`lambda`) swapped for fresh identifiers that `ast` reads,
    and the scope of those identifiers."""
    spelled = {}
    for name in [name for name in scope if keyword.iskeyword(name)]:
        fresh = f"_{name}_"
        while fresh in text or fresh in scope:
            fresh += "_"
        text = re.sub(rf"(?<![\w.]){name}(?!\w)", fresh, text)
        spelled[fresh] = scope[name]
    return text, spelled


def _bracket_depth(text):
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _tree_depth(root):
    """How deep expressions nest under `root`, counted without recursion (the tree may be thousands deep)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]
    return deepest


def _quote(text, limit=60):
    """repr(text), cut to about `limit` characters so that a message stays one short line."""
    quoted = repr(text)
    return quoted if len(quoted) <= limit else quoted[: limit - 4] + "...'"


def compile_formula(expr, symbols):
    """A function of torch columns, one per symbol. The symbols are renamed _arg_0000, _arg_0001, … first:
    lambdify puts names in the namespace of the code it writes, where a variable named `sqrt` or `pi` would shadow
    those; and the order sympy writes a sum's or a product's terms in follows the names, so fixed names (not
    dummies, numbered by a process-wide counter) give the same floating-point operations in every process."""
    placeholders = [sympy.Symbol(f"_arg_{i:04d}") for i in range(len(symbols))]
    return sympy.lambdify(placeholders, expr.xreplace(dict(zip(symbols, placeholders))), modules=[TORCH_FUNCTIONS])


def _accepting_numbers(function):
    """`function` that also takes the plain numbers sympy leaves in an expression, like the 2 in sqrt(2)*sqrt(x)."""
    return lambda value: function(value if torch.is_tensor(value) else torch.tensor(value, dtype=torch.float64))


TORCH_FUNCTIONS = {name: _accepting_numbers(getattr(torch, name)) for name in _NAMES}
TORCH_FUNCTIONS |= {"Abs": _accepting_numbers(torch.abs), "pi": math.pi, "E": math.e}
