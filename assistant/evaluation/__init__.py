"""Evaluation: question sets, metrics that need no LLM, the runner and the report writers."""
