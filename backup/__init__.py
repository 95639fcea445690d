"""Multi-site backups, verification, point-in-time restore and restore drills."""
