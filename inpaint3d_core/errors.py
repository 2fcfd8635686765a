"""Errors a user can act on. The CLI maps them to exit code 2 and prints only the message."""


class InputError(ValueError):
    """Bad input: the message names the file, view or parameter and says what to do."""
