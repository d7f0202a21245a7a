"""TutorAdmin: the back office and booking site of 4AS."""

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import INSTANCE_DIR, PROJECT_ROOT, load_config


def create_app(config=None):
    """Build the application; `config` overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config())
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)

    register_observability(app)
    register_proxies(app)
    # First, so that its checks run before those of the extensions (CSRF, rate limits).
    register_request_checks(app)
    register_extensions(app)
    register_blueprints(app)
    register_favicon(app)
    register_admin(app)
    register_commands(app)
    register_template_helpers(app)
    register_error_handlers(app)
    register_security_headers(app)
    return app


def register_observability(app):
    from .observability import init_logging, init_sentry

    init_logging(app)
    init_sentry(app)


def register_proxies(app):
    """Behind TRUSTED_PROXIES proxies, the client's address, scheme and host come from their X-Forwarded headers."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def register_extensions(app):
    from . import database, translations
    from .extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    database.configure_engine(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=lambda: "fr", timezone_selector=lambda: app.config["TIMEZONE"])
    # Flask-Admin's texts: our catalogue overrides the French it bundles (tutoradmin/translations).
    translations.init_app(app)
    from .accounts import init_login

    init_login(app, login_manager)


def register_request_checks(app):
    from . import params, request_limits

    params.init_app(app)
    request_limits.init_app(app)


def register_blueprints(app):
    from .public import bp as public_bp
    from .vendor_assets import bp as vendor_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(vendor_bp)


def register_favicon(app):
    """/favicon.ico, which browsers ask for whatever a page links to (static/, drawn by scripts/make_favicon.py)."""
    from flask import send_from_directory

    app.add_url_rule(
        "/favicon.ico",
        "favicon",
        lambda: send_from_directory(app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon"),
    )


def register_admin(app):
    from .views import init_admin

    init_admin(app)


def register_commands(app):
    from .cli import register_cli

    register_cli(app)


def register_template_helpers(app):
    from . import attachments, formatting, linkify
    from .models import ATTENDANCE_LABELS

    app.jinja_env.filters["money"] = formatting.money
    app.jinja_env.filters["local_datetime"] = formatting.local_datetime
    app.jinja_env.filters["local_date"] = formatting.local_date
    app.jinja_env.filters["local_time"] = formatting.local_time
    app.jinja_env.filters["long_date"] = formatting.long_date
    app.jinja_env.filters["month_label"] = formatting.month_label
    app.jinja_env.filters["file_size"] = attachments.size_label
    app.jinja_env.filters["file_type"] = attachments.type_label
    app.jinja_env.filters["linkify"] = linkify.linkify
    app.jinja_env.globals["ATTENDANCE_LABELS"] = ATTENDANCE_LABELS


def register_error_handlers(app):
    from .error_pages import register_error_pages

    register_error_pages(app)


def register_security_headers(app):
    from .headers import add_security_headers

    app.after_request(add_security_headers)
