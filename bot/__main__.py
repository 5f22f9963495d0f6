"""`python -m bot` is the same as the `lokalnie` command."""

from bot.cli import main

main()
