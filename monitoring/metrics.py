"""Prometheus metrics; one registry per app so that several apps (tests) never clash."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_MONITORING_ROUTES = frozenset({"/health", "/api/v1/health", "/metrics"})
_RTF_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 50)


class Metrics:
    """The server's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.generation_seconds = Histogram(
            "generation_seconds",
            "Model time per generation.",
            ["engine"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "audio_seconds_total", "Seconds of audio produced.", ["engine"], registry=self.registry
        )
        self.real_time_factor = Histogram(
            "real_time_factor",
            "Generation time divided by audio duration (below 1 is faster than real time).",
            ["engine"],
            buckets=_RTF_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "model_queue_depth", "Model calls waiting or running.", registry=self.registry
        )

    def watch_batches(self, read: Callable[[], dict[str, dict[str, Any]]]) -> None:
        """Export each engine's T3 batch (``read()``: engine -> its figures) at every scrape."""
        self.registry.register(_BatchCollector(read))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered HTTP request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_generation(self, engine: str, seconds: float, audio_seconds: float) -> None:
        """Record one finished generation."""
        self.generation_seconds.labels(engine).observe(seconds)
        self.audio_seconds.labels(engine).inc(audio_seconds)
        if audio_seconds > 0:
            self.real_time_factor.labels(engine).observe(seconds / audio_seconds)

    def summary(self) -> dict[str, float | int]:
        """Request counts and rates since start, monitoring probes left out (Plus's /health ``metrics``)."""
        by_status: dict[int, float] = {}
        for metric in self.requests.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total") and sample.labels["route"] not in _MONITORING_ROUTES:
                    status = int(sample.labels["status"])
                    by_status[status] = by_status.get(status, 0) + sample.value
        total = int(sum(by_status.values()))
        failed = int(sum(n for status, n in by_status.items() if status >= 500))
        rejected = int(sum(n for status, n in by_status.items() if 400 <= status < 500))
        return {
            "total_requests": total,
            "successful_requests": total - failed - rejected,
            "client_errors": rejected,
            "server_errors": failed,
            "success_rate": round((total - failed - rejected) / total, 4) if total else 1.0,
            "error_rate": round(failed / total, 4) if total else 0.0,
        }

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class _BatchCollector(Collector):
    """Per engine, read when scraped: ``t3_batch_size``, ``t3_batch_waiting``, ``t3_tokens_per_second``,
    ``t3_batch_oom_shrinks_total``."""

    def __init__(self, read: Callable[[], dict[str, dict[str, Any]]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        figures = self._read()
        for key, name, doc in (
            ("batch_size", "t3_batch_size", "Sequences in the T3 decoding batch now."),
            ("waiting", "t3_batch_waiting", "Sequences waiting for a place in the T3 batch."),
            ("tokens_per_second", "t3_tokens_per_second", "Speech tokens per second over the last steps."),
        ):
            family = GaugeMetricFamily(name, doc, labels=["engine"])
            for engine, stats in figures.items():
                family.add_metric([engine], float(stats.get(key, 0)))
            yield family
        shrinks = CounterMetricFamily(
            "t3_batch_oom_shrinks", "Times a T3 batch ran out of device memory and shrank.", labels=["engine"]
        )
        for engine, stats in figures.items():
            shrinks.add_metric([engine], float(stats.get("oom_shrinks", 0)))
        yield shrinks
