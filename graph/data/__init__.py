"""Data files of the graph domain (the ЦОПП roadmap template)."""
