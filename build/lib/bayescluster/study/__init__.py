"""The Industrial Cluster Project study.

The 19-cluster registry, the paper's tables, the calibrated generator and its truth, the
paper's hypotheses and report sections, the demo.

Everything here may use the generic engine above it; nothing generic uses this package.
"""
