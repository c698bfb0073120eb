"""The one Temporal runtime of a process: core logs forwarded, SDK metrics bridged.

Temporal's core can serve Prometheus itself (`PrometheusConfig`), but on a port of its
own: every process would then expose two endpoints, and the metrics port could no
longer be the one place to scrape. Instead the core writes into a `MetricBuffer` and
`TemporalMetricsBridge` folds it into prometheus-client at each scrape (and every few
seconds between scrapes, so the buffer never fills), under the endpoint's one port.
Bridged counters get the `_total` suffix and durations are in seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_HISTOGRAM,
    BufferedMetricUpdate,
    LogForwardingConfig,
    LoggingConfig,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from stigmer.observability.metrics import LATENCY_BUCKETS

BUFFER_SIZE = 100_000
"""Updates held between drains; far more than a busy worker makes in a few seconds."""

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Installed:
    runtime: Runtime
    buffer: MetricBuffer | None


_installed: _Installed | None = None


def install_runtime(*, metrics: bool) -> Runtime:
    """Make this process's default Temporal runtime, forwarding core logs to `logging`.

    With `metrics`, the core's metrics go to a buffer that `temporal_metrics()` reads.
    Clients connected afterwards use it; earlier ones keep the runtime they had.
    """
    global _installed
    if _installed is not None and (_installed.buffer is not None) == metrics:
        return _installed.runtime
    buffer = MetricBuffer(BUFFER_SIZE, MetricBufferDurationFormat.SECONDS) if metrics else None
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=buffer,
        )
    )
    Runtime.set_default(runtime, error_if_already_set=False)
    _installed = _Installed(runtime, buffer)
    return runtime


def temporal_metrics() -> TemporalMetricsBridge | None:
    """The bridge of the installed runtime's metric buffer, if it has one."""
    if _installed is None or _installed.buffer is None:
        return None
    return TemporalMetricsBridge(_installed.buffer)


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    count: int = 0
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.total += value
        for index, bound in enumerate(LATENCY_BUCKETS):
            if value <= bound:
                self.buckets[index] += 1


@dataclass
class _Family:
    name: str
    documentation: str
    kind: int
    values: dict[Labels, float] = field(default_factory=dict)
    histograms: dict[Labels, _Histogram] = field(default_factory=dict)


class TemporalMetricsBridge(Collector):
    """A prometheus-client collector over the Temporal core's metric buffer."""

    def __init__(self, buffer: MetricBuffer) -> None:
        self.buffer = buffer
        self.families: dict[str, _Family] = {}
        self._lock = threading.Lock()

    def drain(self) -> None:
        """Fold the buffered updates in: counters add up, gauges keep the last value."""
        with self._lock:
            for update in self.buffer.retrieve_updates():
                self._fold(update)

    def _fold(self, update: BufferedMetricUpdate) -> None:
        metric = update.metric
        family = self.families.get(metric.name)
        if family is None:
            family = _Family(metric.name, metric.description or metric.name, metric.kind)
            self.families[metric.name] = family
        labels = _labels(update.attributes)
        if metric.kind == BUFFERED_METRIC_KIND_HISTOGRAM:
            family.histograms.setdefault(labels, _Histogram()).observe(float(update.value))
        elif metric.kind == BUFFERED_METRIC_KIND_COUNTER:
            family.values[labels] = family.values.get(labels, 0.0) + update.value
        else:
            family.values[labels] = float(update.value)

    def collect(self) -> Iterable[Metric]:
        self.drain()
        with self._lock:
            return [_exposed(family) for family in self.families.values()]


def _labels(attributes: Mapping[str, object]) -> Labels:
    return tuple(sorted((key, str(value)) for key, value in attributes.items()))


def _exposed(family: _Family) -> Metric:
    if family.kind == BUFFERED_METRIC_KIND_HISTOGRAM:
        metric = Metric(family.name, family.documentation, "histogram")
        for labels, histogram in family.histograms.items():
            base = dict(labels)
            for bound, count in zip(LATENCY_BUCKETS, histogram.buckets, strict=True):
                metric.add_sample(f"{family.name}_bucket", {**base, "le": str(bound)}, count)
            metric.add_sample(f"{family.name}_bucket", {**base, "le": "+Inf"}, histogram.count)
            metric.add_sample(f"{family.name}_count", base, histogram.count)
            metric.add_sample(f"{family.name}_sum", base, histogram.total)
        return metric
    if family.kind == BUFFERED_METRIC_KIND_COUNTER:
        name = family.name.removesuffix("_total")  # some core counters already end so
        metric = Metric(name, family.documentation, "counter")
        for labels, value in family.values.items():
            metric.add_sample(f"{name}_total", dict(labels), value)
        return metric
    metric = Metric(family.name, family.documentation, "gauge")
    for labels, value in family.values.items():
        metric.add_sample(family.name, dict(labels), value)
    return metric
