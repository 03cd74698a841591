"""`python -m relmark` runs the command-line interface."""

from relmark.interfaces.cli import main

main()
