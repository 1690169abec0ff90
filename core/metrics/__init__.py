"""The shop's Prometheus metrics: the counters apps move, the figures read at scrape, /metrics.

- `counters`: what the apps count as things happen (page cache hits and misses in-process,
  upstream errors in the shared cache);
- `collectors`: the figures read when Prometheus asks (orders, payments, fulfilment latency,
  partner balance, the Celery queue) and the registry that serves them with the counters;
- `views`: `/metrics` itself and who may read it.

Nothing is imported here, so that `core.roamify_client` can import the counters without the
collectors (which import it back).
"""
