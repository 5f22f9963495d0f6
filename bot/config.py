"""Settings: every knob of the service, read from the environment and `.env`.

A wrong or missing setting becomes one `ConfigError` whose message names the
variable and what is wrong, in the configured language; the CLI prints it on
one line and exits with 2.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handlers.core.i18n import CatalogueError, Translator

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
DEFAULT_TELEGRAM_FILE_API = "https://api.telegram.org/file/bot"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is meant for the operator."""


class SettingProblem(ValueError):
    """What a validator found wrong, as a catalogue key and its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


MailSecurity = Literal["ssl", "starttls", "none"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = DEFAULT_TELEGRAM_API
    telegram_file_base_url: str | None = None
    telegram_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # Telegram allows about 30 messages/s per bot; stay a little below.
    telegram_messages_per_second: float = Field(default=25.0, ge=0)

    database_url: str = "sqlite+aiosqlite:///data/lokalnie.db"

    coordinator_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    coordinator_email: str | None = None

    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_security: MailSecurity = "ssl"
    imap_folder: str = "INBOX"
    # IDLE is ended and issued again this often (servers drop it after 30 min).
    imap_idle_seconds: float = Field(default=300.0, gt=0)
    # How often to look for new mail when the server has no IDLE.
    imap_poll_seconds: float = Field(default=60.0, gt=0)

    smtp_host: str | None = None
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: MailSecurity = "ssl"
    mail_from: str | None = None
    # Attachments larger than this are listed but not kept.
    mail_attachment_max_bytes: int = Field(default=15 * 1024 * 1024, ge=0)
    # Acknowledge the first e-mail of a new thread (text in content/mail.yaml).
    mail_acknowledge: bool = False
    # The authserv-id our mail provider writes in Authentication-Results (e.g.
    # "mx.example.pl"); verdicts under any other id are a sender's claim, ignored.
    mail_authserv_id: str = ""

    # The coordinators' web panel (panel/): served when PANEL_PORT is set, on PANEL_HOST;
    # PANEL_URL is its public address, used in sign-in links (default http://host:port).
    panel_port: int | None = Field(default=None, ge=1, le=65535)
    panel_host: str = "127.0.0.1"
    panel_url: str | None = None
    # The key sign-in links are signed with; when unset, one is made and kept in the store.
    panel_secret: SecretStr | None = None

    timezone: str = "Europe/Warsaw"
    default_language: Literal["pl", "en"] = "pl"
    content_dir: Path = Path("content")
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # A daily backup of the store into this folder when set, keeping the newest few.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1)
    backup_hour: int = Field(default=3, ge=0, le=23)

    @field_validator("coordinator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise SettingProblem("cli.config.not_an_id", value=part)
            return [int(part) for part in parts]
        return value

    @field_validator("backup_dir", "panel_url", "panel_port", "panel_secret", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        # "BACKUP_DIR=" as in .env.example means no daily backup, not the current folder.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SettingProblem("cli.config.unknown_zone", value=value) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("sqlite:///") or value == "sqlite://":
            return value.replace("sqlite://", "sqlite+aiosqlite://", 1)
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingProblem("cli.config.database_url")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.imap_host and self.imap_security == "starttls":
            raise SettingProblem("cli.config.imap_starttls")
        if self.imap_host and self.imap_security == "none" and not _loopback(self.imap_host):
            raise SettingProblem("cli.config.imap_none")
        if self.telegram_mode == "webhook" and self.telegram_bot_token:
            if not self.webhook_url:
                raise SettingProblem("cli.config.webhook_url_required")
            if not self.webhook_url.startswith("https://"):
                raise SettingProblem("cli.config.webhook_https")
            if not self.webhook_secret:
                raise SettingProblem("cli.config.webhook_secret_required")
        return self

    @property
    def timezone_info(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def panel_base_url(self) -> str | None:
        """Where sign-in links point: PANEL_URL, else the local address; None: no panel."""
        if self.panel_url:
            return self.panel_url.rstrip("/")
        if self.panel_port:
            return f"http://{self.panel_host}:{self.panel_port}"
        return None

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_bot_token.get_secret_value())

    @property
    def file_base_url(self) -> str:
        if self.telegram_file_base_url:
            return self.telegram_file_base_url
        if self.telegram_api_base_url == DEFAULT_TELEGRAM_API:
            return DEFAULT_TELEGRAM_FILE_API
        return self.telegram_api_base_url.rstrip("/").removesuffix("/bot") + "/file/bot"


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


# Pydantic's own error types, by what the operator is told.
NUMBER_ERRORS = {
    "int_parsing",
    "float_parsing",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
}


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part != "__root__"]
    name = location[0].upper() if location else ""
    value = first.get("input", "")
    found = (first.get("ctx") or {}).get("error")
    if isinstance(found, SettingProblem):
        text = interface_text(found.key, **found.values)
    elif first["type"] == "literal_error":
        text = interface_text("cli.config.one_of", value=value, allowed=_allowed(location))
    elif first["type"] in NUMBER_ERRORS:
        text = interface_text("cli.config.number", value=value)
    else:
        text = interface_text("cli.config.invalid", value=value)
    return f"{name}: {text}" if name else text


def _allowed(location: list[str]) -> str:
    """The values a Literal setting takes, listed without pydantic's English "or"."""
    field = Settings.model_fields.get(location[0]) if location else None
    return ", ".join(str(value) for value in get_args(field.annotation)) if field else ""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning any validation error into one clear `ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


class _Interface(BaseSettings):
    """Only what the CLI needs before its settings are checked: its language and texts."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    default_language: str = "pl"
    content_dir: Path = Path("content")


# The shipped catalogues, for help asked for outside the project folder.
SHIPPED_LOCALES = Path(__file__).resolve().parent.parent / "content" / "locales"


def interface_language() -> tuple[str, Path]:
    """DEFAULT_LANGUAGE and CONTENT_DIR read leniently, Polish and `content` when unset.

    Typer builds its help texts when the CLI is imported, before any setting is
    validated, so a wrong setting must not stop the help from showing: it is
    reported by the command that loads the settings.
    """
    try:
        found = _Interface()
    except ValidationError:
        return "pl", Path("content")
    language = found.default_language.strip().lower()
    return (language if language in ("pl", "en") else "pl"), found.content_dir


@cache
def interface() -> tuple[Translator | None, str]:
    """The catalogue and language the operator is addressed in (CLI, setting errors)."""
    language, content_dir = interface_language()
    for locales in (content_dir / "locales", SHIPPED_LOCALES):
        try:
            return Translator(locales, language), language
        except CatalogueError:
            continue
    # No catalogue anywhere: the command that needs one reports it on one line.
    return None, language


def interface_text(key: str, /, **values: object) -> str:
    """A text for the operator from the catalogue of the configured language."""
    translator, language = interface()
    if translator is None:
        return key
    return translator.text(language, key, **values)
