-- The bench's requests for wrk (bench/run.py writes the files and reads the last line).
-- wrk -t1 -c32 -d10s -s bench/wrk.lua URL -- PATHS KEY BODY PREFIX CAPTURE HEADERS
--   PATHS    file of paths, one a line: GET each in turn, starting again at the end; a line
--            "path<TAB>body" is a POST of that JSON body instead (a push, a staff report)
--   KEY      API key sent as "Authorization: Bearer KEY", or -
--   BODY     file holding a JSON body to POST to the first path, with Idempotency-Key PREFIX-n, or -
--   CAPTURE  file to append "id vnp_TxnRef vnp_Amount" of each payment created (201) to, or -
--   HEADERS  file of further headers, "Name: value" a line (a staff session's cookie and CSRF token), or -
-- Its last line: BENCH {"requests":..,"sent":..,"us":..,"socket_errors":..,"statuses":{..},"rspcodes":{..}}

local threads = {}
local requests_, headers, body, prefix, capture = {}, {}, nil, nil, nil
statuses, rspcodes, sent = {}, {}, 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  if args[2] ~= "-" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  if args[6] and args[6] ~= "-" then
    for line in io.lines(args[6]) do
      local name, value = string.match(line, "^([^:]+):%s*(.*)$")
      if name then
        headers[name] = value
      end
    end
  end
  if args[3] ~= "-" then
    local f = assert(io.open(args[3], "rb"))
    body = f:read("*a")
    f:close()
    headers["Content-Type"] = "application/json"
    prefix = args[4] .. "-" .. tid .. "-"
  end
  for line in io.lines(args[1]) do
    local path, posted = string.match(line, "^([^\t]*)\t(.*)$")
    if posted then
      local own = {["Content-Type"] = "application/json"}
      for k, v in pairs(headers) do
        own[k] = v
      end
      table.insert(requests_, wrk.format("POST", path, own, posted))
    elseif line ~= "" then
      table.insert(requests_, body and line or wrk.format("GET", line, headers))
    end
  end
  if args[5] ~= "-" then
    capture = assert(io.open(args[5], "a"))
    capture:setvbuf("line")
  end
end

function request()
  sent = sent + 1
  if body then
    headers["Idempotency-Key"] = prefix .. sent
    return wrk.format("POST", requests_[1], headers, body)
  end
  return requests_[(sent - 1) % #requests_ + 1]
end

function response(status, _, text)
  local s = tostring(status)
  statuses[s] = (statuses[s] or 0) + 1
  if not text then
    return
  end
  local code = string.match(text, '"RspCode":"(%d+)"')
  if code then
    rspcodes[code] = (rspcodes[code] or 0) + 1
  end
  if capture and status == 201 then
    local id = string.match(text, '"id":"([^"]+)"')
    local ref = string.match(text, 'vnp_TxnRef=([^&"]+)')
    local amount = string.match(text, 'vnp_Amount=(%d+)')
    if id and ref and amount then
      capture:write(id, " ", ref, " ", amount, "\n")
    end
  end
end

local function merged(name)
  local all = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get(name) or {}) do
      all[k] = (all[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(all) do
    table.insert(parts, string.format('"%s":%d', k, v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary)
  local sends = 0
  for _, t in ipairs(threads) do
    sends = sends + (t:get("sent") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"sent":%d,"us":%d,"socket_errors":%d,"statuses":%s,"rspcodes":%s}\n',
    summary.requests, sends, summary.duration, e.connect + e.read + e.write + e.timeout,
    merged("statuses"), merged("rspcodes")))
end
