"""Shared helpers imported by corpus DAG files (not DAG files themselves)."""
