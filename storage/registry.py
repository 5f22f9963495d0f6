"""All the store's tables in one metadata: what Alembic migrates and checks against.

`storage.models` defines every model but the mailbox's, which `storage.mail` still
defines next to its queries (and which imports `storage.models`); importing both
here, rather than one from the other, registers every table without a cycle.
"""

import storage.mail  # noqa: F401 - registers the mailbox's tables
from storage.models import Base

metadata = Base.metadata
