"""The load balancer in front of the replicas: HAProxy's own check passes on its configuration,
and the configuration agrees with the compose file, the image and the app's routes. What it
does with real traffic is proven by test_final_replicas.py."""

import ipaddress
import re

from final_deploy_facts import (
    POSTGRES_CONNECTIONS_FOR_APPS,
    compose_networks,
    compose_services,
    get_routes,
    image_port,
    per_worker_connections,
)
from final_proxy import BACKEND, HAPROXY_CONFIG, check_config, directive, sections

# How far `docker compose --scale app=N` may go on the compose file's connection budget.
MOST_REPLICAS = 4


def test_haproxy_accepts_its_configuration_without_a_warning():
    result = check_config(HAPROXY_CONFIG)
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "[WARNING]" not in output, output
    assert "[ALERT]" not in output, output


def test_the_proxy_forwards_the_address_it_saw_and_drops_what_clients_claim():
    frontend = sections()["frontend users"]

    assert "http-request set-header X-Forwarded-For %[src]" in frontend, (
        "the proxy must replace X-Forwarded-For with the address it saw (set-header), so a "
        "client cannot pick the address that the app's rate limits count"
    )
    assert "http-request del-header Forwarded" in frontend
    assert any(line.startswith("http-request set-header X-Forwarded-Proto") for line in frontend)


def test_the_public_never_reaches_the_metrics():
    frontend = sections()["frontend users"]

    assert any("deny" in line and "/metrics" in line for line in frontend), (
        "the public frontend must refuse /metrics: Prometheus scrapes each replica directly"
    )


def test_the_backend_checks_readiness_on_the_image_port_with_a_host_the_app_serves():
    backend = sections()[f"backend {BACKEND}"]
    (send,) = directive(backend, "http-check send")
    uri = re.search(r"\buri (\S+)", send).group(1)
    host = re.search(r"\bhdr Host (\S+)", send).group(1)
    (template,) = directive(backend, "server-template")
    service, port = template.split()[3].split(":")
    app = compose_services()["app"]
    allowed_hosts = app["environment"]["ALLOWED_HOSTS"].split(",")

    assert uri == "/health/ready", f"checks {uri}: readiness is what says a replica can serve"
    assert uri in get_routes(), f"the app has no GET {uri}"
    assert "http-check expect status 200" in backend
    assert host in allowed_hosts, f"Host {host} is not in ALLOWED_HOSTS {allowed_hosts}: a 400"
    assert int(port) == image_port(), f"sends to port {port}, the image listens on {image_port()}"
    assert service == "app", "the servers are found by the compose service's name"
    assert "resolvers" in template.split(), "replicas come and go: their addresses from DNS"


def test_only_writes_that_cannot_have_been_applied_are_sent_again():
    defaults = sections()["defaults"]
    frontend = sections()["frontend users"]

    assert "option redispatch 1" in defaults, "a retry must go to another server"
    assert "http-request disable-l7-retry unless { method GET HEAD }" in frontend, (
        "a write cut off mid-flight may have been applied: only reads are sent again"
    )


def test_the_proxy_is_ready_only_while_a_replica_is():
    operations = sections()["frontend operations"]
    proxy = compose_services()["proxy"]

    assert f"monitor fail if {{ nbsrv({BACKEND}) lt 1 }}" in operations
    (uri,) = [line.split()[1] for line in directive(operations, "monitor-uri")]
    assert uri in " ".join(proxy["healthcheck"]["test"]), "compose checks the proxy elsewhere"


def test_compose_sends_visitors_through_the_proxy_only():
    services = compose_services()
    app, proxy = services["app"], services["proxy"]
    mounted = {volume.split(":")[0] for volume in proxy["volumes"]}

    assert "ports" not in app, "a replica with a published port cannot be scaled (--scale app=3)"
    assert proxy["ports"], "the proxy publishes the service's port"
    assert "./final/deploy/haproxy/haproxy.cfg" in mounted, "the proxy runs the checked config"
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"


def test_the_app_trusts_forwarded_headers_from_the_proxy_alone():
    services = compose_services()
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    (pool,) = compose_networks()["default"]["ipam"]["config"]
    trusted = services["app"]["environment"]["FORWARDED_ALLOW_IPS"]

    assert trusted == proxy_address, (
        f"FORWARDED_ALLOW_IPS is {trusted!r}: it must be the proxy's address {proxy_address}, "
        "or anyone reaching the app could choose the address its limits count"
    )
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(pool["subnet"])
    assert ipaddress.ip_address(proxy_address) not in ipaddress.ip_network(pool["ip_range"]), (
        "the proxy's fixed address must lie outside the range other containers get addresses "
        "from, or a replica could be given it"
    )


def test_the_replicas_fit_postgresql_connection_budget():
    app = compose_services()["app"]
    environment = {name: str(value) for name, value in app["environment"].items()}
    workers = int(re.search(r"(\d+)\}?$", environment["WEB_CONCURRENCY"]).group(1))
    needed = MOST_REPLICAS * workers * per_worker_connections(environment)

    assert needed <= POSTGRES_CONNECTIONS_FOR_APPS, (
        f"{MOST_REPLICAS} replicas x {workers} workers x {per_worker_connections(environment)} "
        f"connections = {needed}, over PostgreSQL's {POSTGRES_CONNECTIONS_FOR_APPS}"
    )
