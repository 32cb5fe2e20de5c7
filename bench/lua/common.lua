-- Shared by the bench's wrk scripts: per-thread tallies of HTTP status and VNPay RspCode, and one JSON
-- line at the end (prefixed BENCH_JSON) that bench/wrk.py reads instead of wrk's text report.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

statuses = {}
rspcodes = {}

function response(status, headers, body)
  local s = tostring(status)
  statuses[s] = (statuses[s] or 0) + 1
  if body then
    local code = string.match(body, '"RspCode":"(%d+)"')
    if code then
      rspcodes[code] = (rspcodes[code] or 0) + 1
    end
  end
end

local function merge(into, from)
  for k, v in pairs(from or {}) do
    into[k] = (into[k] or 0) + v
  end
end

local function json_map(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, string.format('"%s":%d', k, v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_status, all_rsp, wrapped = {}, {}, 0
  for _, t in ipairs(threads) do
    merge(all_status, t:get("statuses"))
    merge(all_rsp, t:get("rspcodes"))
    wrapped = wrapped + (t:get("wrapped") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"statuses":%s,"rspcodes":%s,"wrapped":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    json_map(all_status), json_map(all_rsp), wrapped))
end
