"""The chat page's parts: ``render`` (pure HTML/Markdown), ``uploads``, ``feedback``, and the
Streamlit views ``chat`` and ``sidebar``; ``assistant/app.py`` is the page's entry point."""
