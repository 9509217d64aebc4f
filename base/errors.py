"""One root exception and a few subclasses, each message saying what to do about it."""


class LensError(Exception):
    """Anything genai-lens reports to a user as a one-line error (exit code 2)."""

    exit_code = 2


class ConfigError(LensError):
    """The configuration file or environment holds a key or value we cannot use."""


class SourceError(LensError):
    """An AWS source or landing zone cannot be reached or read at all."""


class CredentialsError(SourceError):
    """boto3's default chain found no usable credentials for a configured source."""


class WarehouseError(LensError):
    """The DuckDB warehouse cannot be opened, migrated or written."""


class MigrationError(WarehouseError):
    """The migrations folder or the applied migrations are inconsistent."""
