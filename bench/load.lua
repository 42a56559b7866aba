-- wrk script: optional cookie, and a JSON line with the figures we report.
-- usage: wrk -s bench/load.lua ... URL   (COOKIE env var: sent as Cookie header; AUTHORIZATION: as Authorization)

local cookie = os.getenv("COOKIE")
local authorization = os.getenv("AUTHORIZATION")
local statuses = {}

request = function()
  local headers = {}
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  if authorization and authorization ~= "" then headers["Authorization"] = authorization end
  return wrk.format("GET", nil, headers)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local non2xx = summary.errors.status
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, errors, non2xx,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
