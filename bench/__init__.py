"""`make bench`: the hot path, cold start, collector scale and the monitoring's own cost, as ratios.

Every timed figure is the median of several repeats and is printed next to a baseline measured in the
same run (absolute times drift on a shared machine). Benchmarks report; they never fail the test suite.
Run `python -m bench --help` for the options; `bench/__main__.py` runs every part.
"""
