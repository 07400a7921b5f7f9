"""cookieguard's benchmarks: its overhead side by side with its peers, in one run.

``python -m benchmarks`` (or ``make bench``) prints medians, overheads over the
bare application and the ratios the performance targets name. Benchmarks are
not tests: nothing here asserts a timing; the numbers are for people to read.
"""
