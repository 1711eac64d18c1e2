-- wrk reporter for the I1 read-load step (scripts/security-full.sh): one JSON line with the
-- figures the plan asks for (p95 is not in wrk's own --latency table).
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.1f, "non_2xx": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_ms": %.1f, ' ..
    '"p95_ms": %.1f, "p99_ms": %.1f}\n',
    summary.requests, summary.duration / 1e6, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
