"""Sampling, run files, convergence gates and refits."""
