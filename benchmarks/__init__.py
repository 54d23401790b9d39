"""Benchmarks against a real ``manyi serve`` on 127.0.0.1: run them with ``python -m benchmarks.run``."""
