"""Grounded answers: extractive answers with exact citations, abstention, and synthesis."""

from cairn.answer.ask import ask
from cairn.answer.types import Answer, AnswerError, Candidate, Citation, Evidence

__all__ = ["Answer", "AnswerError", "Candidate", "Citation", "Evidence", "ask"]
