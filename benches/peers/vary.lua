-- wrk script: every request's path is args[1] with "{w}" replaced by a
-- value of args[2]..args[3], so no two concurrent requests share a URL
-- (request coalescing must not pass for throughput). Thread k of T (args[4],
-- default 2) takes only the values lo + k, lo + k + T, …, so two threads
-- never ask for the same URL; its connections take them in turn. (Each
-- thread's Lua state has the same unseeded math.random, so a random start
-- per thread put every thread on the same value at the same time.)
-- A thread walks its values with a stride near 0.618 of their count,
-- coprime with it: any run's first requests are spread over the whole
-- range, so a slower contestant, which gets through fewer of them, still
-- sees the same mix of sizes (walking them in order gave it the small,
-- cheap half of c's 100..1000).
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local template, lo, hi, threads, n, mine, stride

local function gcd(a, b)
  while b ~= 0 do
    a, b = b, a % b
  end
  return a
end

function init(args)
  template = args[1]
  lo = tonumber(args[2])
  hi = tonumber(args[3])
  threads = tonumber(args[4] or "2")
  n = 0
  mine = math.floor((hi - lo - id) / threads) + 1
  stride = math.max(1, math.floor(mine * 0.618))
  while gcd(stride, mine) ~= 1 do
    stride = stride + 1
  end
end

function request()
  local w = lo + id + threads * ((n * stride) % mine)
  n = n + 1
  local path = template:gsub("{w}", tostring(w))
  return wrk.format("GET", path)
end
