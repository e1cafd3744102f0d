"""A grounded question-answering assistant over your own documents."""

__version__ = "0.1.0"
