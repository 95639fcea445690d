"""The backup package's errors, all in the `erpcore.exceptions` tree so the CLI maps them to exit codes.

ErpError
└── BackupError            exit 1   a backup, restore, verify or drill could not do its work
    ├── SiteError          exit 1   one site refused a read or a write (others may still work)
    ├── CorruptObject      exit 1   an object's bytes do not match the manifest's size or SHA-256
    ├── WrongKey           exit 1   the configured encryption key is not the one the backup was made with
    ├── NoUsableCopy       exit 1   no site holds a healthy copy of what a restore needs
    ├── TargetUnreachable  exit 1   the WAL to reach a recovery target never reached a site
    └── UsageError         exit 2   options that do not go together, or a value out of range

Scratch clusters (drill, restore-table) are opskit's: their failures are `opskit.errors.ClusterError`, exit 4.
"""

from __future__ import annotations

from erpcore.exceptions import ErpError


class BackupError(ErpError):
    code = "backup_error"


class SiteError(BackupError):
    code = "site_error"


class CorruptObject(BackupError):
    code = "corrupt_object"


class WrongKey(BackupError):
    code = "wrong_key"


class NoUsableCopy(BackupError):
    code = "no_usable_copy"


class TargetUnreachable(BackupError):
    """The WAL needed to reach the recovery target was never shipped to any site."""

    code = "target_unreachable"


class UsageError(BackupError):
    """Bad command-line input: one line on stderr and exit 2 through the root CLI's ErpError handler."""

    code = "usage_error"
    exit_code = 2
