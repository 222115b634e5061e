"""Plain modules the tests share, by responsibility, and the fixture plugins built on them.

Test modules and conftest files import helpers from here (never from a conftest or another test
module). ``fixtures_*.py`` are pytest plugins listed in the root conftest's ``pytest_plugins``:
the fixtures used by more than one test package, each defined once.
"""
