"""The interactive front ends of the wizard: the Textual app (``screens.app``), the plain
questionary flow (``screens.plain``) and ``consolidate init`` (``screens.init_flow``).

Importing this package imports nothing: each module pulls in Textual or questionary itself,
so ``--plain`` never loads Textual.
"""
