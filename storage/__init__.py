"""The store: SQLAlchemy models, the session factory, queries and migrations.

Only this package writes SQL; handlers and adapters call its functions.
"""
