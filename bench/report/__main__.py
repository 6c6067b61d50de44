"""python -m bench.report (bench/builtin.py: a built-in sweep first when the folder holds none, then the report)."""

import sys

from bench import cli
from bench.builtin import main

sys.exit(cli.main_guard(main))
