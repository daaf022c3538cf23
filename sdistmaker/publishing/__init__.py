"""The publish stage: the index as OUTDIR serves it, copied to the stores PUBLISH_TO names
(object storage, for a fleet of installers or several regions).

A kind of store is one module of this package that ends with ``register(...)``, as ``s3.py``
does: the defaults file takes its URLs by their scheme, and ``copying.py`` copies to it.
"""

from __future__ import annotations

from sdistmaker.publishing.targets import PublishError, Target, check, register, target_for

__all__ = ["PublishError", "Target", "check", "register", "target_for"]

# The kinds of store there are: each registers itself.
from sdistmaker.publishing import s3  # noqa: F401
