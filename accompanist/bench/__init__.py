"""Benchmarks behind `accompanist bench`: medians and percentiles, never asserted in tests."""
