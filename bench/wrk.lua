-- wrk script for `make bench`: rotates over a file of paths (one per line), sends the
-- session cookie and the proxy's https header, and prints one JSON line of results.
local paths = {}
local index = 0
local cookie = ""

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  cookie = args[2] or ""
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index], {["Cookie"] = cookie, ["X-Forwarded-Proto"] = "https"})
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
