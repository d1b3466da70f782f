class DomainError(Exception):
    """A rule of the platform was broken. The message is written for a resident and is safe to show them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
