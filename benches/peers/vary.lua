-- wrk script: every request's path is args[1] with "{w}" replaced by the
-- next value of args[2]..args[3], so no two concurrent requests share a URL
-- (request coalescing must not pass for throughput). Each thread starts at
-- its own offset.
local template, lo, hi, n

function init(args)
  template = args[1]
  lo = tonumber(args[2])
  hi = tonumber(args[3])
  n = math.random(0, hi - lo)
end

function request()
  local w = lo + (n % (hi - lo + 1))
  n = n + 1
  local path = template:gsub("{w}", tostring(w))
  return wrk.format("GET", path)
end
