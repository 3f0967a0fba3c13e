"""Lint rules grouped by theme. Each module registers its rules on import."""
