"""Errors whose message is written for the user: the CLI prints it as one line, the app shows it."""


class HashdemoError(Exception):
    """Base class: bad input or missing files, explained in one sentence."""


class DataNotFoundError(HashdemoError, FileNotFoundError):
    """A dataset or checkpoint file is not where it is expected."""


class InvalidInputError(HashdemoError, ValueError):
    """A parameter, image or file is not acceptable."""


class UnsafeFileError(HashdemoError):
    """A file would have to be unpickled (arbitrary code execution) to be read."""
