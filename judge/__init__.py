"""The judge's domain: languages, problems, checkers, grading, storage."""
