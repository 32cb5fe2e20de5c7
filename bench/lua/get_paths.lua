-- GET the paths of a file (one a line). Thread i of n takes lines i, i+n, i+2n, ... so no two threads send
-- the same path; past the end a thread starts again and counts the wrap (a reused IPN becomes a duplicate).
-- args: <paths file> <api key or -> <threads>
package.path = package.path .. ";" .. string.match(debug.getinfo(1, "S").source:sub(2), "(.*/)") .. "?.lua"
require("common")

local requests_ = {}
local i = 0
local sent = 0
wrapped = 0

function init(args)
  local nthreads = tonumber(args[3] or "1")
  local headers = {}
  if args[2] and args[2] ~= "-" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  local n = 0
  for line in io.lines(args[1]) do
    if line ~= "" then
      n = n + 1
      if (n - 1) % nthreads == (tid - 1) then
        table.insert(requests_, wrk.format("GET", line, headers))
      end
    end
  end
  assert(#requests_ > 0, "no paths for this thread")
end

function request()
  i = i + 1
  if i > #requests_ then
    i = 1
  end
  sent = sent + 1
  if sent > #requests_ then
    wrapped = wrapped + 1
  end
  return requests_[i]
end
