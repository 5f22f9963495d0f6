"""The coordinators' web panel: server-rendered pages over the bot's own store.

Served by Tornado, in the bot's process when PANEL_PORT is set (`lokalnie run`)
or alone (`lokalnie panel`); texts come from the bot's catalogues (keys
`panel.*`), pages from Jinja2 templates in `templates/`, one stylesheet in
`static/`. A coordinator signs in with a one-time link sent by `/panel`
(`links.py`, `auth.py`); every POST is checked against forgery (`csrf.py`);
every action is written to the audit log (`audit.py`).

Modules: `app.py` (state and server), `routes.py` (the list of page groups),
`base.py` (what every page shares), `feature.py` (a coordinator's Context for the
chat's feature code), `serve.py` (starting it), one module per page group.

Adding a page:
1. Write `panel/<group>.py` with handlers deriving from `base.PanelHandler`
   (`self.coordinator` is set; use `self.transaction()` for the store and
   `self.render_page("<group>.html", **values)`), a `ROUTES` list of
   (URL pattern, handler) and, for the navigation, `NAV = ("panel.nav.<group>", "/url")`.
2. Add the module to `routes.page_groups()`.
3. Write `templates/<group>.html` extending `layout.html`: texts with `t("key")`,
   every form with `{{ csrf_field() }}` and a `<label>` for every field.
4. Add the keys to both catalogues (content/locales/*/LC_MESSAGES/lokalnie.po).
5. Call the chat's feature code (`handlers/...`) with
   `feature.coordinator_context(session, self)`; never re-implement a rule here,
   and record each change with `audit.record(session, self, "<action>", target)`
   in the same transaction (and a label in `audit.ACTIONS`).
"""
