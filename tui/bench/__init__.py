"""Benchmarks behind `ptui bench`: each measures ptui beside its anchor in one run."""
