-- wrk script: visitors of the booking pages, each request drawn from a visit's mix, with a think time.
--
--   wrk -t2 -c20 -d30s -s bench/booking_mix.lua http://127.0.0.1:5055 -- \
--       <slug> <day,day,...> <month,month,...> <think min ms> <think max ms>
--
-- A visit reads the course list and the course page once, opens the booking page once, which
-- loads the month map twice (a duration or month change) and the slots of five days: weights
-- 1, 1, 1, 2, 5. done() prints one "BANC key=value ..." line that bench/booking_bench.py reads.

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local function split(text)
  local parts = {}
  for part in string.gmatch(text, "[^,]+") do
    parts[#parts + 1] = part
  end
  return parts
end

local slug, days, months, think_min, think_max
local mix = {}
local started = {}

function init(args)
  slug, days, months = args[1], split(args[2]), split(args[3])
  think_min, think_max = tonumber(args[4]), tonumber(args[5])
  math.randomseed(id * 7919)
  local durations = { 60, 90, 120 }
  local kinds = {
    { 1, function() return "/cours" end },
    { 1, function() return "/cours/" .. slug end },
    { 1, function() return "/cours/" .. slug .. "/reservation" end },
    { 2, function()
      return "/api/cours/" .. slug .. "/disponibilites?mois=" .. months[math.random(#months)]
        .. "&duree=" .. durations[math.random(#durations)]
    end },
    { 5, function()
      return "/api/cours/" .. slug .. "/creneaux?date=" .. days[math.random(#days)]
        .. "&duree=" .. durations[math.random(#durations)]
    end },
  }
  for _, kind in ipairs(kinds) do
    for _ = 1, kind[1] do
      mix[#mix + 1] = kind[2]
    end
  end
end

function request()
  return wrk.format("GET", mix[math.random(#mix)]())
end

function delay()
  if think_max <= 0 then
    return 0
  end
  return math.random(think_min, think_max)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local failed = errors.connect + errors.read + errors.write + errors.status + errors.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BANC requests=%d seconds=%.2f rate=%.2f median_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000, failed))
end
