"""Locust scenarios. Each file is a locustfile: the runner starts Locust on it in a
subprocess, never in the pytest or runner process (Locust monkey-patches the standard library
on import)."""
