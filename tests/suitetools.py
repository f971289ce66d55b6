"""How the suite shares this machine (used by tests/conftest.py; in a module of its own, since `conftest` names
more than one file): the thread count of each test and each process it starts, and what one xdist worker runs."""

import os

# two xdist workers share the 2 cores: one thread each (HASHDEMO_TEST_THREADS overrides)
THREADS = os.environ.get("HASHDEMO_TEST_THREADS", "1" if "PYTEST_XDIST_WORKER" in os.environ else "2")

# One xdist worker runs these files, in this order: the lecture's tests share what its first walk computes (two
# workers computing the same cold steps at once doubled their cost), and the browser tests share one server.
ONE_WORKER = ("test_lecture.py", "test_browser_lecture.py", "test_browser_flows.py", "test_browser_pages.py")
# then the other files, the longest first, so that the two workers finish together (see --no-loadscope-reorder)
SLOW_FIRST = ("test_robustness.py", "test_bench.py", "test_own_model.py", "test_report.py", "test_behaviour.py")


def work_unit(nodeid: str) -> str:
    """What one xdist worker runs together: a test's file, or all the ONE_WORKER files."""
    path = nodeid.split("::", 1)[0]
    return "one worker" if path.rsplit("/", 1)[-1] in ONE_WORKER else path
