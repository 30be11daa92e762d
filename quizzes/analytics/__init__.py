"""Reads over graded work: the learner's dashboard, item statistics, cohort
views. See docs/architecture.md."""
