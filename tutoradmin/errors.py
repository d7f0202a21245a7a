"""The base of every error by which a business rule refuses an operation."""


class DomainError(Exception):
    """An operation refused; `message` says why, in French, to the person who asked.

    Domain errors carry no HTTP status: the web layer (the public blueprint, the back office's
    base views, the webhook) decides what each class becomes.
    """

    def __init__(self, message):
        super().__init__(message)
        self.message = message
