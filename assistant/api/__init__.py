"""The HTTP API (`assistant serve`): OpenAI-compatible chat over the collections, and documents.

``schema`` holds the request and response models (the shapes `/docs` shows),
``openai_format`` turns messages into a question and an ``Answer`` into OpenAI's
shapes (pure functions), ``app`` holds the routes and their guards, and ``server``
starts uvicorn. FastAPI is imported only by ``assistant serve``.
"""
