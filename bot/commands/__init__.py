"""The `lokalnie` sub-commands, one module per feature; `bot/cli.py` adds them."""
