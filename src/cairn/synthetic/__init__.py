"""Synthetic questions from any collection: answerable pairs whose answer span is known by
construction, and unanswerable look-alikes made by SQuAD 2.0's edits (``dataset.py``)."""
