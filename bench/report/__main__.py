"""python -m bench.report (bench/builtin.py: the report, after a built-in sweep when --sweep asks for one)."""

import sys

from bench import cli
from bench.builtin import main

sys.exit(cli.main_guard(main))
