"""Shared operations plumbing for every erpops tool: a leaf package that imports nothing of erpops.

    errors      OpsError, the root every expected error of erpops derives from (with its exit code)
    exitcodes   the one exit-code table of every command
    output      rich tables for people, --json for machines, progress and `error:` lines on stderr
    ports       free loopback ports
    pg          PostgreSQL server binaries and throw-away clusters on loopback ports
    proc        start a server process, wait until it answers over HTTP, stop it by PID
"""
