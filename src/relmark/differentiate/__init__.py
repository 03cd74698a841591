"""Differentiate: a value for every customer from what they bought, when and for how much.

Pure computations: frames and arrays in, frames and arrays out; no session inside.
"""
