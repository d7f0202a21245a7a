"""Every refusal by a business rule is a DomainError: a French message and no HTTP status."""

import importlib
import inspect
import pkgutil

import tutoradmin
from tutoradmin.config import ConfigError
from tutoradmin.error_pages import PageError
from tutoradmin.errors import DomainError

#: Errors that are no refusal by a business rule: the environment refuses to start the application,
#: or a page answers with an HTTP status of its choosing.
NOT_REFUSALS = {ConfigError, PageError}


def exception_classes():
    """Every exception class defined in the package, outside the web layers (public site, back office)."""
    found = set()
    for module_info in pkgutil.walk_packages(tutoradmin.__path__, "tutoradmin."):
        if module_info.name.startswith(("tutoradmin.public", "tutoradmin.views")):
            continue
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Exception) and cls.__module__ == module.__name__:
                found.add(cls)
    return found


def test_every_domain_error_is_a_domain_error():
    classes = exception_classes() - NOT_REFUSALS
    assert {c.__name__ for c in classes} >= {"CartError", "CouponError", "PayoutError", "SlotTaken", "UnknownTutor"}
    assert [c.__name__ for c in classes if not issubclass(c, DomainError)] == []


def test_a_domain_error_carries_its_french_message_and_no_http_status():
    for cls in exception_classes() - NOT_REFUSALS:
        error = cls("Opération refusée.")
        assert error.message == str(error) == "Opération refusée.", cls
        assert not hasattr(error, "status"), cls
