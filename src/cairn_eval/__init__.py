"""Cairn's benchmarks and training, kept out of the runtime package ``cairn``.

The ``cairn eval ...`` and ``cairn adapt`` commands are thin entry points that import this
package on use; nothing else in ``cairn`` depends on it (``tests/test_import_layers.py``).
Its training code needs the ``train`` extra; the peer baselines need the ``eval`` extra.
"""
