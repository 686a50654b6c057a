"""The catalogue of classic mistakes, one module per task.

Each module lists the mistakes students of that task are known to make: for each, what the
mistake computes (a :class:`tests.support.compare.Mistake` variant) and the message that names
it. The public tests (what a student runs) and the hidden tests (the grading) both use it, so
a mistake gets the same name wherever it is found. Every entry has a known-wrong fixture under
``tests/fixtures/<task>/wrong/``; ``tests/course/test_known_implementations.py`` checks that
the public run and the hidden run both name it.
"""
