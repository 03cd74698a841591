"""Identify: source records → one profile per person (exact keys first, then probabilistic)."""
