"""Propusk: identity, consent and personal-data governance for a school digital environment."""

__version__ = "0.1.0"
