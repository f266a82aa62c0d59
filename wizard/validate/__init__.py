"""Post-execution validation: the seed's checklist turned into measured checks, each journaled.

What it proves: the target is unchanged (schema fingerprint, row counts), its history agrees with
the migrations folder, a fresh environment built from the folder matches the target, the security
posture holds, and the project's own tests pass. It changes nothing on the target.

* :mod:`.phase`: run every check and journal ``validate.done``;
* :mod:`.checks`: one function per check; :mod:`.security`: the read-only security linter.
"""

from wizard.validate.checks import CheckResult
from wizard.validate.phase import ValidationResult, run_validation

__all__ = ["CheckResult", "ValidationResult", "run_validation"]
