"""Hypothesis settings for the fuzz tests: the profile "ci", always loaded (not only when $CI
is set), so every run draws the same cases - derandomised, no example database, no deadline
(a case's time depends on the machine's load, not on the code).

The fuzz families run in a capped subprocess (`_memcap.run_capped`), where pytest does not
read this file: their entry functions load it with `runpy.run_path` so the child uses the
same profile.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.load_profile("ci")
