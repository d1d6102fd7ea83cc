"""foibot's own exception types.

Adapters translate library errors (smtplib, imapclient, SQLAlchemy, tomllib ...) into
these, so that the CLI can print one clear line and exit non-zero, and the daemon can
log the line and carry on. ``exit_code`` follows the sysexits spirit: 2 for bad input
or configuration, 1 for a failure of the outside world.
"""

from __future__ import annotations


class FoibotError(Exception):
    """Base for every error foibot reports to a user; the message is one line."""

    exit_code = 1


class UserInputError(FoibotError):
    """Something the user typed or wrote in a file is wrong (bad date, bad CSV row ...)."""

    exit_code = 2


class ConfigError(UserInputError):
    """A missing or invalid configuration value; the message names the key and the file."""


class NotFoundError(UserInputError):
    """A named thing (campaign, request, authority, message) does not exist."""


class StoreError(FoibotError):
    """The database could not be reached or used."""


class TransportError(FoibotError):
    """A mail server (SMTP or IMAP) could not be reached or refused us."""


class ParseError(FoibotError):
    """An incoming message could not be parsed at all. Its raw bytes are kept, and it
    is stored and listed with this error; it is never dropped."""
