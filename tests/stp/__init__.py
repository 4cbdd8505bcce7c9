"""The StUF Testplatform ZDS 1.2 scenarios, run against a live broker (see runner.py)."""
