"""What the bot does, channel-agnostic: events in, replies out.

Nothing in this package imports Telegram or e-mail code.
"""
