"""Signing in (the link's page and its button) and signing out.

The link from the chat opens a page with one button: the link is used by the
POST, so a link preview that fetches the address does not use it up. After
signing in, the browser goes to the dashboard, and the token leaves the address bar.
"""

from __future__ import annotations

from panel import auth
from panel.base import PanelHandler


class SignIn(PanelHandler):
    public = True

    def get(self) -> None:
        token = self.get_query_argument("token", "")
        self.render_page("signin.html", token=token)

    async def post(self) -> None:
        found = await auth.sign_in(self.panel, self.get_body_argument("token", ""))
        if isinstance(found, auth.Refused):
            self.refuse(403, found.key)
            return
        _, value = found
        self.set_cookie(auth.COOKIE, value, **auth.cookie_options(self.panel))  # type: ignore[arg-type]
        self.redirect("/", status=303)


class SignOut(PanelHandler):
    async def post(self) -> None:
        await auth.sign_out(self.panel, self.get_cookie(auth.COOKIE))
        self.clear_cookie(auth.COOKIE, path="/")
        self.coordinator = None
        self.render_page("signed_out.html")


ROUTES = [(r"/signin", SignIn), (r"/signout", SignOut)]
