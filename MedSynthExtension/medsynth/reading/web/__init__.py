"""Web reader: the reading session served to a browser (Starlette on uvicorn, NiiVue vendored).

Readers open a personal link (``medsynth reading invite``) and answer in the same SQLite session
that the Slicer panel uses. See :mod:`.app` for what is served and :mod:`.tokens` for the links.
"""
