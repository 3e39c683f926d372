"""accompanist: a real-time AI accompanist for MIDI keyboards.

The public surface for scripts is small: harmonise a melody with a named model.

    >>> from accompanist import harmonize_file
    >>> harmonize_file("melody.mid", "out.mid", model="chorale-alto")
"""

from accompanist.errors import AccompanistError

__version__ = "0.1.0"

__all__ = ["AccompanistError", "__version__", "harmonize_file"]


def harmonize_file(*args, **kwargs):
    """See :func:`accompanist.inference.harmonize.harmonize_file`."""
    from accompanist.inference.harmonize import harmonize_file as _impl

    return _impl(*args, **kwargs)
