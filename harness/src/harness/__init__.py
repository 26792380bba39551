"""The measurement harness: the Locust benchmarks (`harness.bench`) and the reliability
suite's long forms (`harness.reliability`), with one server starter (`harness.server`), one
machine sampler (`harness.machine`) and the services from `localservices`.

It runs the services it measures in processes of their own and never imports them, nor the
`workshop` command: `workshop bench` and `workshop reliability` import it, lazily.
"""
