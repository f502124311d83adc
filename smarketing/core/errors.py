"""The one exception type for a user's mistake: its message is shown as is, without a traceback."""


class UserError(Exception):
    """A problem in the user's input or settings, explained in one sentence."""
