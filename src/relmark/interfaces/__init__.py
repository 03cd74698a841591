"""Thin interfaces over the stages: command line (and later HTTP API and web pages)."""
