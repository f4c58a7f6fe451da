"""The one error type a user sees: one line, naming the place and the problem."""


class CaptureError(Exception):
    """Bad input or a failed capture. str() is the one line the CLI prints."""

    def __init__(self, where, problem=None):
        if problem is None:
            super().__init__(where)
        else:
            super().__init__(f"{where}: {problem}")
