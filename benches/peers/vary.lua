-- wrk script: every request's path is args[1] with "{w}" replaced by a
-- value of args[2]..args[3], so no two concurrent requests share a URL
-- (request coalescing must not pass for throughput). Thread k of T (args[4],
-- default 2) takes only the values lo + k, lo + k + T, …, so two threads
-- never ask for the same URL; its connections take them in turn. (Each
-- thread's Lua state has the same unseeded math.random, so a random start
-- per thread put every thread on the same value at the same time.)
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local template, lo, hi, threads, n

function init(args)
  template = args[1]
  lo = tonumber(args[2])
  hi = tonumber(args[3])
  threads = tonumber(args[4] or "2")
  n = 0
end

function request()
  local span = hi - lo + 1
  local mine = math.floor((span - 1 - id) / threads) + 1
  local w = lo + id + threads * (n % mine)
  n = n + 1
  local path = template:gsub("{w}", tostring(w))
  return wrk.format("GET", path)
end
