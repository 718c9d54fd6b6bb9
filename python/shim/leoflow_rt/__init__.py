"""Leoflow Lite Python runtime: DAG-file parsing, serialization and the warm worker.

Kept import-cheap: submodules are imported on demand.
"""
