"""Baseline servers the benchmarks compare Chatterbox with."""
