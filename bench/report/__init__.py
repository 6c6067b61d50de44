"""bench.report: tables, figures and summary.md from run records, one concern per module.

frames (records to pandas), tables (statistics), figures, markdown (summary.md), sweeps (the built-in sweeps
and the commands that reproduce records), main (the command line).
"""
