"""consolidation-wizard: the Safe Consolidation Protocol engine.

This package holds the protocol engine (phases, gates, database I/O). It never
imports Textual, questionary or the ``screens`` package.
"""

__version__ = "0.1.0"
