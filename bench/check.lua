-- wrk script: POSTs REST `check` bodies, rotating over the machines listed in
-- $BODIES (one JSON body per line); CLOSE=1 adds "Connection: close".
local requests = {}
local next_index = 1

function init(args)
  local headers = {["Content-Type"] = "application/json"}
  if os.getenv("CLOSE") == "1" then
    headers["Connection"] = "close"
  end
  -- Formatting every request up front keeps wrk's per-request Lua cost to a
  -- table lookup, the same against nginx and the service.
  for line in io.lines(os.getenv("BODIES")) do
    requests[#requests + 1] =
      wrk.format("POST", "/api/v1/request", headers, line .. "\n")
  end
  -- Threads start at different machines.
  next_index = (math.random(#requests) - 1) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
