"""What a file that skdense refuses to load raises, and how it shows the content it refused."""

import json


class UntrustedContentError(ValueError):
    """A file names a type, or holds content, that skdense does not load.

    Raised before anything from the file is constructed: a type outside
    skdense's tables, a Keras layer that runs stored Python code (``Lambda``),
    or a skops type not trusted.
    """


def preview(node):
    text = json.dumps(node, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
