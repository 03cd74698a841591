"""Persistence: the only package that knows about SQL dialects."""
