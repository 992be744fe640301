"""The sources of the assignments (``make assignments``): one module per chapter, each with
``questions(rng)``, the graded questions drawn with the instructor's seed, and ``REFERENCES``,
the code of the hidden tests' references (it goes into the autograder only). Read by
``.ci/assignments.py``."""
