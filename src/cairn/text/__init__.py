"""The text toolkit every layer shares: sentences with offsets, word tokens, stemmers and the
packaged spaCy model. It imports nothing else from ``cairn`` (the bottom layer;
docs/architecture.md, checked by tests/test_import_layers.py)."""
