"""foibot: Freedom of Information campaigns against UK public authorities, by email."""

__version__ = "0.1.0"
