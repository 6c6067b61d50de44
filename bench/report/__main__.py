"""python -m bench.report (see bench.report.main)."""

import sys

from bench import cli
from bench.report.main import main

sys.exit(cli.main_guard(main))
