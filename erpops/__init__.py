"""The root `erpops` command: it only mounts each package's own typer sub-app."""
