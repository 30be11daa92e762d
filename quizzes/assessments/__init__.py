"""Attempts: start, save, check, submit, finalize, regrade; feedback policy;
the learner's pages and API. See docs/architecture.md."""
