"""Grounded reasoning: photos' readings plus retrieved manual passages in,
numbered cited steps out, with flags and a confidence computed from evidence.

Public API (INTERFACES.md): `answer_question`, `answer_question_async`,
`Retriever`. Modules: `retrieval` (evidence and relevance), `prompts`,
`schema`, `parsing`, `providers/` (offline, openai, anthropic, ollama),
`grounding`, `confidence`, `cache`, `engine` (Instant and Thinking modes).
"""

from assistant.reasoning.engine import answer_question, answer_question_async
from assistant.reasoning.retrieval import Retriever

__all__ = ["Retriever", "answer_question", "answer_question_async"]
