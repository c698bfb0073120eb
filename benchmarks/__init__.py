"""Benchmarks of the token handshake: scale, overhead, alternatives and throughput.

Each question has its own entry point (`python -m benchmarks.scale`, ...) that prints a
table and writes JSON and a PNG plot under `benchmarks/results/`; see the README.
"""
