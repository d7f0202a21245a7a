"""Logging and error reports: the level from LOG_LEVEL, and Sentry when SENTRY_DSN is set."""


def init_logging(app):
    """Log the application's messages (its own and its modules', `tutoradmin.*`) from LOG_LEVEL up."""
    # app.logger is the "tutoradmin" logger, to which Flask gives a handler writing to stderr.
    app.logger.setLevel(str(app.config["LOG_LEVEL"]).upper())


def init_sentry(app):
    """Send errors (and error-level log messages) to Sentry, without personal data; nothing without a DSN."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()], send_default_pii=False)
    return True
