"""Settings: every knob of the service, read from the environment and `.env`.

A wrong or missing setting becomes one `ConfigError` whose message names the
variable and what is wrong; the CLI prints it on one line and exits with 2.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
DEFAULT_TELEGRAM_FILE_API = "https://api.telegram.org/file/bot"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is meant for the operator."""


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
                    raise ValueError(f"'{part}' is not a Telegram user id (digits only)")
            return [int(part) for part in parts]
        return value

    @field_validator("backup_dir", mode="before")
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
            raise ValueError(f"unknown time zone '{value}' (e.g. Europe/Warsaw)") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("sqlite:///") or value == "sqlite://":
            return value.replace("sqlite://", "sqlite+aiosqlite://", 1)
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite:///path/to/file.db or postgresql://user@host/db")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.imap_host and self.imap_security == "starttls":
            raise ValueError("IMAP_SECURITY: the IMAP client has no STARTTLS; use ssl (port 993)")
        if self.imap_host and self.imap_security == "none" and not _loopback(self.imap_host):
            raise ValueError("IMAP_SECURITY: none is only for a server on this machine; use ssl")
        if self.telegram_mode == "webhook" and self.telegram_bot_token:
            if not self.webhook_url:
                raise ValueError("WEBHOOK_URL: required when TELEGRAM_MODE=webhook")
            if not self.webhook_url.startswith("https://"):
                raise ValueError("WEBHOOK_URL: Telegram only calls https:// addresses")
            if not self.webhook_secret:
                raise ValueError("WEBHOOK_SECRET: required when TELEGRAM_MODE=webhook")
        return self

    @property
    def timezone_info(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

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


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part != "__root__"]
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if location:
        return f"{location[0].upper()}: {message}"
    return message


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
