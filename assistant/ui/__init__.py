"""The chat page's parts: ``render`` (pure HTML/Markdown), ``feedback``, and the Streamlit
views ``chat`` and ``sidebar``; ``assistant/ui/app.py`` is the page's entry point. Uploads are
saved by ``assistant/ingest/uploads.py``, which the HTTP API shares."""
