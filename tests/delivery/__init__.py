"""Delivery runtime tests: workspace, ingestion, queue, workers, faults and crashes."""
