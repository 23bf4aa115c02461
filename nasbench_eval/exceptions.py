"""Exception hierarchy: every error nasbench-eval raises on purpose derives from NasBenchEvalError.

The CLI prints any NasBenchEvalError as one line on stderr and exits with code 2; any other
exception is a bug and keeps its traceback.
"""


class NasBenchEvalError(Exception):
    """Base class of every deliberate nasbench-eval error."""


class InvalidParameterError(NasBenchEvalError, ValueError, TypeError):
    """An argument has the wrong type, shape or value (a ValueError and a TypeError, as in scikit-learn)."""


class UnknownNameError(InvalidParameterError):
    """A registry lookup missed; the message suggests close names."""


class ArchNotFoundError(NasBenchEvalError, LookupError):
    """A well-formed architecture that this benchmark does not hold."""


class DataNotFoundError(NasBenchEvalError, FileNotFoundError):
    """A data file or directory is missing; the message lists every place looked at."""


class CorruptDataError(NasBenchEvalError, ValueError):
    """A data file exists but does not have the expected content."""
