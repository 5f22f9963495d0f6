"""Delivery errors: how a transport tells the outbox sender what went wrong.

    DeliveryError
    ├── RetryLater        the channel asked us to wait (Telegram 429) or a
    │                     transient fault (network, timeout, SMTP 4xx)
    ├── RecipientGone     the person blocked the bot / the address is gone
    └── PermanentFailure  the message itself was refused (bad request, 5xx)

Configuration errors live in `bot.config.ConfigError`, content errors in
`handlers.core.centre.ContentError`.
"""

from __future__ import annotations


class DeliveryError(Exception):
    pass


class RetryLater(DeliveryError):
    def __init__(self, message: str, *, delay: float, flood_control: bool = False) -> None:
        super().__init__(message)
        self.delay = delay
        # Telegram's 429 is bot-wide: every send must pause, not just this one.
        self.flood_control = flood_control


class RecipientGone(DeliveryError):
    pass


class PermanentFailure(DeliveryError):
    pass
