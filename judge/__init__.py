"""The judge's domain: languages, problems, checkers, grading, storage.

The command line (judge/cli/) and the benchmarks (judge/bench/) sit on top of this engine:
nothing else in judge/ imports them. judge/README.md maps where each thing lives;
tests/unit/test_layering.py holds the rule.
"""
