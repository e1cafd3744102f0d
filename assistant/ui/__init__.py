"""The chat page's parts: ``render`` (pure HTML/Markdown), ``feedback``, and the Streamlit
views ``chat`` and ``sidebar``; ``assistant/app.py`` is the page's entry point. Uploads are
saved by ``assistant/uploads.py``, which the HTTP API shares."""
