"""final/RELIABILITY.md, written from the figures of a run (results.json), never by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# results.json: the JSON document of a run, one section per check that ran (run.py builds
# it from the checks' dataclasses; a page can be written again from it long after).
Results = dict[str, Any]


def _table(header: list[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows
    ]
    return [*lines, ""]


def _outcomes(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def render(results: Results) -> str:
    lines = [
        "# Reliability and security figures",
        "",
        f"Written by `{results['command']}` on {results['started']} "
        f"({results['minutes']:.1f} minutes) on {_code(results)}, from that run: do not edit "
        "by hand. "
        "The suite lives in `final/tests/reliability/`; its short forms run in "
        "`uv run pytest`.",
        "",
        f"**Verdict: {_verdict(results)}**",
        "",
    ]
    lines += _summary(results)
    lines += _machine(results)
    for section in SECTIONS:
        if section in results:
            lines += _marked(section, SECTIONS[section](results[section]))
    return "\n".join(lines).rstrip() + "\n"


def _marked(section: str, lines: list[str]) -> list[str]:
    """A section between markers, so that a later run of that check alone can replace it."""
    return [f"<!-- section: {section} -->", *lines, f"<!-- end of section: {section} -->", ""]


def update(page: str, results: Results) -> str:
    """The page with the sections of the checks in `results` replaced (or added at the end),
    each saying when it was run; the rest of the page, its summary included, is kept."""
    for section in SECTIONS:
        if section not in results:
            continue
        when = (
            f"*This section alone was written by `{results['command']}` on "
            f"{results['started']} ({results['minutes']:.1f} minutes; {_load(results)}; "
            f"{_code(results)}); "
            "the rest of the page comes from the run named at the top.*"
        )
        lines = SECTIONS[section](results[section])
        text = "\n".join(_marked(section, [*lines[:2], when, "", *lines[2:]]))
        start, end = f"<!-- section: {section} -->", f"<!-- end of section: {section} -->\n"
        if start in page and end in page:
            before, rest = page.split(start, 1)
            page = before + text + rest.split(end, 1)[1].lstrip("\n")
        else:
            page = page.rstrip() + "\n\n" + text
    return page.rstrip() + "\n"


def _code(results: Results) -> str:
    # results.json files from before the suite recorded its commit.
    return str(results.get("code", "a commit it did not record"))


def _load(results: Results) -> str:
    load = results["machine"]["summary"]
    return (
        f"load average {load['load_min']} to {load['load_max']}, all cores "
        f"{load['busy_mean']} % busy, {load['others_mean']} % by other people's runs"
    )


def _verdict(results: Results) -> str:
    problems = results["problems"]
    if not problems:
        return "every check passed"
    return f"{len(problems)} problems: " + "; ".join(problems[:5])


def _summary(results: Results) -> list[str]:
    rows = []
    if fuzz := results.get("fuzz"):
        rows.append(
            [
                "Bad input (Schemathesis, every operation)",
                f"{fuzz['test_cases']} test cases, {fuzz['requests_answered']} requests",
                f"{len(fuzz['failures'])} failures",
            ]
        )
    if attacks := results.get("attacks"):
        tried = [a for a in attacks["outcomes"] if a["area"] != "regressions"]
        refused = sum(1 for a in tried if a["outcome"] == "passed")
        tests = len({a["test"].split("[")[0] for a in tried})
        rows.append(
            ["Attacks", f"{len(tried)} cases of {tests} attacks", f"{refused} refused as required"]
        )
    if faults := results.get("faults"):
        survived = sum(1 for fault in faults["faults"] if not fault["problems"])
        during = sum(fault["requests_during"] for fault in faults["faults"])
        errors = sum(_errors(fault["during"]) for fault in faults["faults"])
        audit = faults["audit"]
        rows += [
            ["Faults injected", f"{len(faults['faults'])} faults", f"{survived} survived"],
            ["Requests under fault", f"{during} requests", f"{errors} errors (not designed)"],
            [
                "Rows lost",
                f"{audit['registrations_acknowledged']} registrations acknowledged",
                f"{len(audit['rows_lost'])} lost, {len(audit['duplicates'])} written twice, "
                f"{len(audit['lost_updates'])} updates lost",
            ],
        ]
    if soak := results.get("soak"):
        rows += [
            [
                "Load and soak (Locust, mixed journey)",
                f"{soak['requests']} requests in {soak['seconds']} s",
                f"{soak['failures']} failures",
            ],
            [
                "Memory growth (two workers)",
                f"{soak['rss_after_warmup_mib']} MiB after warm-up",
                f"{soak['growth_mib']:+} MiB to the end, {soak['growth_last_half_mib']:+} MiB "
                "over the last half",
            ],
        ]
    idle = [results[check]["idle"] for check in ("faults", "soak") if check in results]
    if idle:
        busy = sum(sum(n for s, n in i["postgres"].items() if s != "idle") for i in idle)
        rows.append(
            [
                "Connections at the end",
                f"pool in use {sum(i['pool_in_use'] for i in idle):g}",
                f"{busy} PostgreSQL backends not idle",
            ]
        )
    return ["## Summary", "", *_table(["check", "tried", "result"], rows)]


def _errors(outcomes: dict[str, int]) -> int:
    designed = ("ok", "503 ", "refused", "cut")  # anything else fails the drill
    return sum(n for kind, n in outcomes.items() if not kind.startswith(designed))


def _machine(results: Results) -> list[str]:
    machine, load = results["machine"], results["machine"]["summary"]
    return [
        "## The machine during the run",
        "",
        f"{machine['cores']} cores, {machine['memory_gib']} GiB, Python {machine['python']}; "
        f"{results['services']}. Other people's test runs shared the machine: the 1-minute "
        f"load average went from {load['load_min']} to {load['load_max']} (mean "
        f"{load['load_mean']}); all cores were {load['busy_mean']} % busy on average, "
        f"{load['suite_mean']} % of them by the suite's own processes and "
        f"{load['others_mean']} % by everything else (PostgreSQL's work for the suite "
        "included).",
        "",
    ]


def _fuzz(fuzz: Results) -> list[str]:
    rows = [[label, " ".join(map(str, codes))] for label, codes in sorted(fuzz["answers"].items())]
    failures = [
        f"- {f['code']} {f['title']}: {', '.join(f['operations'])}" for f in fuzz["failures"]
    ] or ["No failures."]
    return [
        "## Bad input: Schemathesis",
        "",
        f"`{fuzz['command']}`, seed {fuzz['seed']}: {fuzz['operations']} operations, "
        f"{fuzz['test_cases']} test cases (examples, boundary values, random and invalid "
        f"data, stateful sequences), {fuzz['requests_answered']} requests answered by the "
        f"server in {fuzz['seconds']:.0f} s. Checks: all of Schemathesis' (no 5xx, status "
        "codes, content types, headers and bodies matching the schema, invalid data refused, "
        "valid data accepted, authentication enforced) and the service's own (every error an "
        "`application/problem+json` document, every operation answering 2xx at least once).",
        "",
        *failures,
        "",
        "What each operation answered:",
        "",
        *_table(["operation", "statuses"], rows),
    ]


def _attack_rows(outcomes: list[Results]) -> list[list[object]]:
    """One row per test; a parametrized test's cases are listed in it."""
    tests: dict[str, list[Results]] = {}
    for outcome in outcomes:
        tests.setdefault(outcome["test"].split("[")[0], []).append(outcome)
    rows = []
    for test, cases in tests.items():
        passed = sum(1 for case in cases if case["outcome"] == "passed")
        variants = [case["test"].partition("[")[2].rstrip("]") for case in cases]
        name = test.removeprefix("test_").replace("_", " ")
        if any(variants):
            name += " (" + ", ".join(f"`{variant}`" for variant in variants) + ")"
        result = "passed" if passed == len(cases) else f"{len(cases) - passed} failed"
        if len(cases) > 1:
            result += f" ({passed}/{len(cases)})"
        rows.append([name, cases[0]["statement"], result])
    return rows


def _attacks(attacks: Results) -> list[str]:
    lines = [
        "## Attacks",
        "",
        f"{len(attacks['outcomes'])} test cases in {attacks['seconds']:.0f} s. Each test states "
        "the attack and what the service must answer; passed means the service answered so.",
        "",
    ]
    titles = {
        "tokens": "Tokens",
        "accounts": "Accounts",
        "input": "Input",
        "regressions": "Bugs this suite found, fixed in final/app (their regression tests)",
    }
    for area, title in titles.items():
        outcomes = [a for a in attacks["outcomes"] if a["area"] == area]
        if outcomes:
            header = ["test (cases)", "attack and required answer", "result"]
            lines += [f"### {title}", "", *_table(header, _attack_rows(outcomes))]
    return lines


def _faults(faults: Results) -> list[str]:
    rows, by_action = [], []
    for fault in faults["faults"]:
        after = fault["after"]
        rows.append(
            [
                fault["name"],
                fault["injected"],
                fault["requests_during"],
                fault["failovers"],
                f"{100 * fault['error_rate_during']:.1f} %",
                f"{sum(after.values())}, {_outcomes(after)}",
                "survived" if not fault["problems"] else "; ".join(fault["problems"][:3]),
            ]
        )
        by_action += [
            [fault["name"], action, _outcomes(outcomes)]
            for action, outcomes in fault["during_by_action"].items()
        ]
    audit, idle = faults["audit"], faults["idle"]
    return [
        "## Faults under load",
        "",
        f"Two uvicorn servers (one process each), {faults['clients']} clients in a load process "
        f"of their own for {faults['seconds']} s, {faults['requests']} requests in all "
        f"(before the first fault: {_outcomes(faults['baseline'])}). The load process stands in "
        "for a load balancer: a connection a server refuses goes to the other one at once (a "
        "failover). A designed answer is a 503 problem with Retry-After while a dependency is "
        "away: `auth_unavailable` when token revocation cannot be checked (authenticated routes "
        "fail closed), `database_unavailable` for a request whose connection PostgreSQL cut.",
        "",
        *_table(
            [
                "fault",
                "injected",
                "requests during",
                "failovers",
                "not 2xx during",
                "requests after it cleared",
                "verdict",
            ],
            rows,
        ),
        "What each kind of request got during each fault:",
        "",
        *_table(["fault", "request", "outcomes"], by_action),
        "The suite's Redis runs without persistence, so its restart also forgot every token "
        "revocation; the compose file runs Redis with `appendonly yes`, which keeps them.",
        "",
        "The audit afterwards, against the database:",
        "",
        *_table(
            ["figure", "value"],
            [
                ["registrations acknowledged (201)", audit["registrations_acknowledged"]],
                ["rows in the database", audit["rows"]],
                ["rows lost", len(audit["rows_lost"])],
                ["emails written twice", len(audit["duplicates"])],
                ["rows nobody asked for", len(audit["unrequested"])],
                [
                    "applied, answer lost in a fault (a retry got 409)",
                    audit["applied_unacknowledged"],
                ],
                ["renames acknowledged", audit["renames_acknowledged"]],
                ["renames lost", len(audit["lost_updates"])],
            ],
        ),
        f"At the end: {idle['pool_in_use']:g} pool connections in use, PostgreSQL backends "
        f"{idle['postgres']}, {idle['redis_clients']} Redis connections (at most "
        f"{idle['redis_limit']} allowed).",
        "",
    ]


def _soak(soak: Results) -> list[str]:
    samples = soak["memory_samples_mib"]
    every = max(1, len(samples) // 12)
    idle = soak["idle"]
    failures = soak["failure_details"] or ["No failures."]
    endpoints = [[name, *counts] for name, counts in sorted(soak["requests_by_name"].items())]
    return [
        "## Load and soak",
        "",
        f"Locust ran the benchmarks' mixed journey (`harness/bench/scenarios/journey.py`) with "
        f"{soak['users']} users for {soak['seconds']} s against uvicorn with two workers: "
        f"{soak['requests']} requests, {soak['requests_per_second']} per second, p95 "
        f"{soak['p95_ms']:g} ms, {soak['failures']} failures.",
        "",
        *[f"- {line}" for line in failures[:10]],
        "",
        *_table(["request", "count", "failures"], endpoints),
        f"Resident memory of the two workers: {soak['rss_after_warmup_mib']} MiB after the "
        f"warm-up, {soak['rss_end_mib']} MiB at the end ({soak['growth_mib']:+} MiB; "
        f"{soak['growth_last_half_mib']:+} MiB over the last half, where a leak would keep "
        f"growing). Samples (MiB): {', '.join(str(s) for s in samples[::every])}. Each worker "
        "keeps up to 4,096 verified tokens in memory (about 2 kB each: up to 8 MiB), which "
        "fill as refreshes and logins issue new tokens; growth beyond that would be a leak.",
        "",
        f"At the end: {idle['pool_in_use']:g} pool connections in use, PostgreSQL backends "
        f"{idle['postgres']}, {idle['redis_clients']} Redis connections.",
        "",
    ]


def _replicas(replicas: Results) -> list[str]:
    phases = [
        [
            phase["name"],
            phase["seconds"],
            phase["requests"],
            phase["failed"],
            ", ".join(f"{n} {kind}" for kind, n in phase["by_status"].items()) or "none",
            phase["p50_ms"],
            phase["p99_ms"],
        ]
        for phase in replicas["phases"]
    ]
    verdict = "; ".join(replicas["problems"]) or "every check passed"
    served = ", ".join(f"{name} {n}" for name, n in replicas["served_by_replica"].items())
    return [
        "## Replicas behind a load balancer",
        "",
        f"**Verdict: {verdict}.** Three uvicorn servers (one process each, production "
        "settings) behind HAProxy running `final/deploy/haproxy/haproxy.cfg` with only its "
        "addresses moved onto this machine, on the shared PostgreSQL (a database of the "
        "drill's own) and Redis (a key prefix of its own). The drill lives in "
        "`harness/src/harness/reliability/replicas.py`.",
        "",
        "Across replicas, before the load (each check from a client address of its own):",
        "",
        *_table(["check", "what was seen"], [[k, v] for k, v in replicas["checks"].items()]),
        f"Then Locust ran the benchmarks' mixed journey with {replicas['users']} users through "
        f"the proxy for {replicas['seconds']} s ({replicas['requests']} requests), and "
        f"{replicas['killed']}: it answered its readiness probe again "
        f"{replicas['restart_seconds']} s after the kill. What the clients saw:",
        "",
        *_table(["phase", "seconds", "requests", "failed", "failures", "p50 ms", "p99 ms"], phases),
        f"HAProxy sent {replicas['redispatches']} requests that met the dead replica to "
        f"another one (redispatched; retried on the same server: {replicas['retries']}), and "
        f"the restarted replica took {replicas['served_by_killed_after_return']} requests "
        f"once back. Sessions per replica over the run: {served}. A read cut off in flight is "
        "sent again; a write is not (it may have been applied), so a write in flight at the "
        "kill is the one request a client may see fail (a 502, or the connection closed).",
        "",
        f"The audit: {replicas['registrations_acknowledged']} registrations and "
        f"{replicas['renames_acknowledged']} renames acknowledged; "
        f"{len(replicas['rows_lost'])} registrations and {len(replicas['renames_lost'])} "
        "renames lost.",
        "",
    ]


SECTIONS = {
    "fuzz": _fuzz,
    "attacks": _attacks,
    "faults": _faults,
    "soak": _soak,
    "replicas": _replicas,
}
