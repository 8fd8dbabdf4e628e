"""Test helpers shared by the unit, workerd and end-to-end suites."""
