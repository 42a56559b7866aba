-- wrk script: requests spread over several URLs (each with its own reader), and a JSON line with our figures.
-- usage: TARGETS=file wrk -s bench/load.lua ... BASEURL
-- TARGETS: a file of lines "path<TAB>header", header "" or "Cookie: ..." or "Authorization: ..."; each
-- thread starts at its own line and takes them in turn, so every URL gets its share.

local targets = {}
local index = 1
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("offset", counter)
end

init = function(args)
  local file = os.getenv("TARGETS")
  for line in io.lines(file) do
    local path, header = line:match("^([^\t]*)\t?(.*)$")
    local headers = {}
    if header and header ~= "" then
      local name, value = header:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    table.insert(targets, wrk.format("GET", path, headers))
  end
  index = (tonumber(offset) or 1) % #targets + 1
end

request = function()
  local r = targets[index]
  index = index % #targets + 1
  return r
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local non2xx = summary.errors.status
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, errors, non2xx,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
