"""Lokalnie: the runtime (configuration, wiring and channel adapters)."""
