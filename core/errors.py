"""The one exception type for refusals of the domain (not bugs)."""


class DomainError(Exception):
    """A business rule refused the operation.

    `code` is stable and machine-readable (`insufficient_points`), `message` is for people,
    `fields` points at the offending inputs, `status` is the HTTP status the API answers with.
    """

    status = 400

    def __init__(self, code: str, message: str, *, fields: dict | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "Not found.", code: str = "not_found"):
        super().__init__(code, message)


class Conflict(DomainError):
    status = 409
