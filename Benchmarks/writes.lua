-- wrk script: durable single-document writes, each request to a unique path.
--   wrk -t1 -c64 -d10s --latency -s writes.lua http://127.0.0.1:8080
-- Every connection's requests go to /v1/documents/bench/<run>-t<thread>-<n>; the body is a small JSON map.
-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses") and printed again by done() below.

local threads = {}
local run = tostring(os.time())

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  non2xx = 0
  prefix = "/v1/documents/bench/w" .. run .. "-t" .. tostring(id) .. "-"
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  local body = '{"client":' .. tostring(id) .. ',"n":' .. tostring(counter) .. ',"text":"a small durable write","done":false}'
  return wrk.format("PUT", prefix .. tostring(counter), headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  io.write(string.format("non-2xx (counted by the script): %d\n", bad))
  io.write(string.format("latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
