"""`python -m erpops` runs the root command."""

from erpops.cli import main

main()
