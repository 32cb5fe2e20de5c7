-- POST a JSON body; optionally a new Idempotency-Key on every request.
-- args: <body file> <path> <api key or -> <idempotency key prefix or -> 
package.path = package.path .. ";" .. string.match(debug.getinfo(1, "S").source:sub(2), "(.*/)") .. "?.lua"
require("common")

local body, path, headers, prefix
local counter = 0

function init(args)
  local f = assert(io.open(args[1], "rb"))
  body = f:read("*a")
  f:close()
  path = args[2]
  headers = { ["Content-Type"] = "application/json" }
  if args[3] and args[3] ~= "-" then
    headers["Authorization"] = "Bearer " .. args[3]
  end
  if args[4] and args[4] ~= "-" then
    prefix = args[4] .. "-" .. tostring(tid) .. "-"
  end
  if not prefix then
    local static = wrk.format("POST", path, headers, body)
    request = function() return static end
  end
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = prefix .. counter
  return wrk.format("POST", path, headers, body)
end
