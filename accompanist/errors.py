"""The one exception type the command line turns into a single readable line."""


class AccompanistError(Exception):
    """A problem with the user's input or set-up: a bad file, an unknown model, a missing port.

    The message names the thing and says what to do; the command line prints it without a
    traceback and exits non-zero. Bugs stay ordinary exceptions so they keep their traceback.
    """
