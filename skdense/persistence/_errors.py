"""What a file that skdense does not load raises, and how it shows the content.

Two types, both ``ValueError``s, both naming the user's file and the entry in it:
:class:`UntrustedContentError` for what skdense refuses to load (it may be
well-formed), :class:`MalformedFileError` for what is damaged, truncated, too
large for the limits, or not the format it claims to be.
"""

import json


class UntrustedContentError(ValueError):
    """A file names a type, or holds content, that skdense does not load.

    Raised before anything from the file is constructed: a type outside
    skdense's tables, a Keras layer that runs stored Python code (``Lambda``)
    or reads other files, a skops type not trusted.
    """


class MalformedFileError(ValueError):
    """A file is not what it claims to be: damaged, truncated, inconsistent (an
    attribute that disagrees with the network), larger than the loading limits
    (:class:`~skdense.persistence.LoadLimits`), or not a zip archive where one is
    expected.  Nothing from it was constructed."""


def preview(node):
    text = json.dumps(node, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
