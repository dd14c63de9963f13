"""Shared by tests, benchmarks and scripts: synthetic loops, tiny models, clock simulation.

Never imported by the instrument itself.
"""
