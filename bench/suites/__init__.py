"""Built-in suites: named sets of targets, each a TOML file in the targets format."""

from pathlib import Path

from bench.errors import UserError
from bench.targets import BUILTIN_FILE, parse_targets

HERE = Path(__file__).parent
SUITES = {
    "seed": BUILTIN_FILE,  # the question's equation: seed and seed-coded
    "srsd-easy": HERE / "srsd-easy.toml",  # SRSD-Feynman (Matsubara et al., DMLR 2024), 30 equations
    "srsd-medium": HERE / "srsd-medium.toml",  # 40 equations
    "srsd-hard": HERE / "srsd-hard.toml",  # 50 equations
    "srsd-dev": HERE / "srsd-dev.toml",  # the public development set: 14 equations of the medium and hard sets
}


def load_suite(name):
    """The targets of suite `name`, by target name."""
    if name not in SUITES:
        raise UserError(f"unknown suite {name!r}; choose one of {', '.join(SUITES)}")
    return parse_targets(SUITES[name].read_text(), SUITES[name].name)
