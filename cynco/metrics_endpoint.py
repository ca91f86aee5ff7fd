"""`GET /metrics`: the Prometheus text format, for the addresses and token of the settings.

Access (docs/operations.md): the caller's address (REMOTE_ADDR: the proxy's, behind one) must
be in METRICS_ALLOWED_NETWORKS (default: loopback only), and when METRICS_TOKEN is set the
request must carry `Authorization: Bearer <token>`. Anything else is a plain 403.

Two kinds of figure are exposed. Counters and histograms that the code increments
(cynco.metrics): added up over every process when PROMETHEUS_MULTIPROC_DIR is set (gunicorn
workers and Celery workers write there). And figures read from the database at scrape time
(backlogs, the last reconciliation): each comes from a function listed in
METRICS_FIGURE_SOURCES, run with a statement timeout; a source that fails is left out and
`cynco_metrics_source_up{source}` says 0.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils.module_loading import import_string
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

SOURCE_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class Figure:
    """One gauge value read from the database (a METRICS_FIGURE_SOURCES function yields these).
    Figures of one name must all carry the same label names."""

    name: str
    documentation: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def allowed(request) -> bool:
    """Whether this request may read the metrics (address, then token)."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    networks = _networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    if not any(address in network for network in networks):
        return False
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


class DatabaseFigures:
    """A prometheus_client collector of the METRICS_FIGURE_SOURCES figures."""

    def collect(self):
        families: dict[str, GaugeMetricFamily] = {}
        up = GaugeMetricFamily("cynco_metrics_source_up",
                               "1 when a database figure source answered at this scrape.",
                               labels=["source"])
        for path in settings.METRICS_FIGURE_SOURCES:
            figures = _read(path)
            up.add_metric([path], 0 if figures is None else 1)
            for figure in figures or ():
                family = families.get(figure.name)
                if family is None:
                    family = families[figure.name] = GaugeMetricFamily(
                        figure.name, figure.documentation, labels=sorted(figure.labels))
                family.add_metric([figure.labels[name] for name in sorted(figure.labels)],
                                  figure.value)
        yield up
        yield from families.values()


def _read(path: str) -> list[Figure] | None:
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {SOURCE_TIMEOUT_MS}")
            return list(import_string(path)())
    except Exception:  # a broken source must not take the other figures down with it
        logger.exception("metrics figure source %s failed", path)
        return None


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition() -> bytes:
    """The whole text page: process metrics, then the database figures."""
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseFigures())
    return generate_latest(_process_registry()) + generate_latest(database)


def metrics_view(request):
    if request.method != "GET":
        return HttpResponse("method not allowed\n", status=405, content_type="text/plain")
    if not allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
