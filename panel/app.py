"""The panel's state (store, services, configuration, templates) and its HTTP server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import tornado.httpserver
import tornado.netutil
import tornado.web
from tornado.log import access_log

from handlers.core.services import Services
from panel import csrf
from panel.config import PanelConfig
from panel.routes import navigation, url_patterns
from storage.db import Store

HERE = Path(__file__).resolve().parent


def template_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class Panel:
    """Everything a page handler reaches through `self.panel`."""

    store: Store
    services: Services
    config: PanelConfig
    templates: jinja2.Environment = field(default_factory=template_environment)

    @property
    def navigation(self) -> list[tuple[str, str]]:
        return navigation()


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log without the query: a sign-in link's token is never logged."""
    status = handler.get_status()
    log = access_log.info if status < 400 else access_log.warning
    took = 1000.0 * handler.request.request_time()
    log("%d %s %s %.1fms", status, handler.request.method, handler.request.path, took)


def build_application(panel: Panel) -> tornado.web.Application:
    return tornado.web.Application(
        url_patterns(panel),
        log_function=log_request,
        static_path=str(HERE / "static"),
        static_url_prefix="/static/",
        compress_response=True,
        **csrf.settings(secure=panel.config.secure),
    )


class PanelServer:
    """The panel on PANEL_HOST:PANEL_PORT, in whatever loop runs it."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.server: tornado.httpserver.HTTPServer | None = None

    def listen(self, *, host: str, port: int) -> int:
        """Start listening; the port (the one chosen when `port` is 0)."""
        self.server = tornado.httpserver.HTTPServer(build_application(self.panel), xheaders=False)
        sockets = tornado.netutil.bind_sockets(port, address=host)
        self.server.add_sockets(sockets)
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()
