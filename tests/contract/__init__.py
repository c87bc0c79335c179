"""Contract tests over every spec: see test_contract.py."""
