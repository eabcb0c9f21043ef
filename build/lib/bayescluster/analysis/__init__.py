"""Generic analyses of saved runs, and their figures.

Summaries, clusters and domains, effects, predictive checks, model comparison, calibration.
"""
