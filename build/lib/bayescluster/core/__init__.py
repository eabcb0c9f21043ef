"""The base layer: user-facing errors, atomic writes and where shipped files live."""
