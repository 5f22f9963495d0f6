"""What the centre's own mail provider says about a message's sender.

`Authentication-Results` headers are plain text: anyone can put one with
`spf=pass` in a message. Only the verdicts under the authserv-id of the centre's
own provider (the MAIL_AUTHSERV_ID setting) are its word; all others are ignored.
"""

from __future__ import annotations

from handlers.mailbox.events import IncomingMail
from storage.mail import MailMessage

FAILED_VERDICTS = ("fail", "softfail", "permerror")


def trusted_auth(mail: IncomingMail, authserv_id: str) -> dict[str, str]:
    """The verdicts our own provider wrote; any other authserv-id is the sender's claim."""
    if not authserv_id:
        return {}
    return dict(mail.auth.get(authserv_id.strip().lower(), {}))


def authenticated(message: MailMessage) -> bool:
    """Our provider vouched that the stored message came from its sender's domain
    (a stored message's `auth` holds only the provider's verdicts)."""
    verdicts = (message.auth or {}).values()
    return "pass" in verdicts and not any(v in FAILED_VERDICTS for v in verdicts)
