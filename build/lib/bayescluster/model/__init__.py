"""The model layer.

Design, parameterisation, the PyMC build, the likelihood kernels and the evaluators of the
linear predictor.
"""
