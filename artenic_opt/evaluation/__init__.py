"""Evaluations that drive the simulator or the learning loop end to end (above the pillars).

* ``simulator``: heuristic vs ltr vs hybrid on held-out simulated workloads (``evaluate_modes``).
* ``suggest``: what configuration to measure next for a workload (expected improvement).

The backtest of measured runs stays in ``training_advisor.evaluation`` (pure scoring).
"""
