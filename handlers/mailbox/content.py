"""The mailbox's content file (content/mail.yaml): the automatic acknowledgement."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from handlers.core.centre import ContentError, Localised

MAIL_FILE = "mail.yaml"


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Localised


class MailContent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    acknowledgement: Acknowledgement


def load_mail_content(content_dir: Path) -> MailContent:
    path = content_dir / MAIL_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return MailContent.model_validate(raw)
    except OSError as error:
        raise ContentError.unreadable(path, error) from None
    except yaml.YAMLError as error:
        raise ContentError.bad_yaml(path, error) from None
    except ValidationError as error:
        raise ContentError.invalid(path, error) from None
