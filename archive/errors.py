"""The archive's own expected errors (in the erpcore exception tree, so the CLI maps them to exit codes)."""

from __future__ import annotations

from erpcore.exceptions import ErpError


class VerificationFailed(ErpError):
    """A copy did not read back with the counts and hashes of its source rows; nothing was deleted."""

    code = "verification_failed"
