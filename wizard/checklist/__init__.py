"""The pre-flight checklist: the seed's "Pre-Execution (Required)" items, machine-checked or ticked.

What it proves: the git work tree is clean, the project's tests pass, the migration files parse
and the history table exists (machine items); the operator ticks the human ones (team notified).
"""

from wizard.checklist.items import ITEMS, ItemResult, human_results, run_machine_checks, tick

__all__ = ["ITEMS", "ItemResult", "human_results", "run_machine_checks", "tick"]
