"""The options and arguments of `erpops backup` commands, declared once and shared by name."""

from __future__ import annotations

from pathlib import Path

import typer

from opskit import output

# `\[` keeps rich markup from taking "[backup]" for a style tag and printing "a  section".
ConfigOpt = typer.Option(
    None, "--config", "-c", help="erpops.toml with a \\[backup] section (default: ERPOPS_CONFIG)."
)
SiteOpt = typer.Option(None, "--site", "-s", help="Only this site (repeatable).")
QuietOpt = output.QuietFlag
JsonOpt = output.JsonFlag
TimeOpt = typer.Option(None, "--time", help="Recover to this time (ISO 8601; without a zone: local time).")
NameOpt = typer.Option(
    None,
    "--name",
    help="Recover to this named restore point (every base backup writes "
    "erpops-<backup id>, where its integrity summary holds).",
)

ToOpt = typer.Option(..., "--to", help="New data directory (PostgreSQL) or new file (SQLite).")
BackupOpt = typer.Option(None, "--backup", help="Backup id (default: newest suitable).")
XidOpt = typer.Option(None, "--xid", help="Recover to this transaction id.")
LsnOpt = typer.Option(None, "--lsn", help="Recover to this WAL position.")
ImmediateOpt = typer.Option(False, "--immediate", help="Stop as soon as the backup is consistent.")
OwnerOpt = typer.Option(None, "--owner", help="chown the data directory to this OS user (e.g. postgres).")
ScratchOpt = typer.Option(
    None, "--scratch", help="Existing directory for the scratch restores (default: temp)."
)
SeedOpt = typer.Option(None, "--seed", help="Seed for the random point in time.")
SpoolOpt = typer.Option(Path("var/backup-wal-spool"), help="Local directory pg_receivewal writes into.")
SlotOpt = typer.Option("erpops_backup", help="Replication slot name.")
SecondsOpt = typer.Option(0, help="Stop after this many seconds (0: until SIGINT or SIGTERM).")
TablesOpt = typer.Option(..., "--table", "-t", help="Table to bring back (repeatable).")
IntoSchemaOpt = typer.Option(..., "--into-schema", help="New schema of the live database for the copies.")
IntoDatabaseOpt = typer.Option(..., "--into-database", help="New database on the live server to load into.")
DumpTableOpt = typer.Option(None, "--table", "-t", help="Only this table (repeatable; pg_restore -t).")
DumpSchemaOpt = typer.Option(None, "--schema", "-n", help="Only this schema (repeatable; pg_restore -n).")
DumpBackupOpt = typer.Option(None, "--backup", help="Logical backup id (default: the newest dump).")
RestoreJobsOpt = typer.Option(None, "--jobs", "-j", help="pg_restore workers (default: backup.dump_jobs).")
WalPathArg = typer.Argument(..., help="The WAL file (%p).")
WalNameArg = typer.Argument(..., help="WAL file name (%f).")
WalDestArg = typer.Argument(..., help="Where to write it (%p).")

LabelOpt = typer.Option("", help="Free text stored in the manifest.")
LogicalOpt = typer.Option(
    False,
    "--logical",
    help="A logical dump (pg_dump -Fd -j N) instead of a base backup: "
    "for bringing back single tables or schemas with restore-dump.",
)
DumpJobsOpt = typer.Option(
    None, "--jobs", "-j", help="pg_dump workers for --logical (default: backup.dump_jobs)."
)
MetricsOpt = typer.Option(False, "--metrics", help="Print Prometheus metrics instead.")
DryRunOpt = typer.Option(False, "--dry-run", help="Show what would be deleted; delete nothing.")
ThenVerifyOpt = typer.Option(False, "--verify", help="Then re-read and check every object on the sites.")
