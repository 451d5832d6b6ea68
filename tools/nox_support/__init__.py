"""Helpers of the noxfile: pure logic, tested by the suite in ``tests/unit/test_tools``.

Kept out of the ``mlops`` package because they build the environments that
test it; nothing here is imported by mlops itself.
"""
