"""Adapting the reader and the support model to a knowledge base (`cairn adapt`)."""
