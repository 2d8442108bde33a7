-- wrk script: durable single-document writes to random 20-character ids (like Firestore's automatic ids), so each
-- write lands on a random page of every index on the document name.
--   wrk -t1 -c64 -d10s --latency -s writes-random.lua http://127.0.0.1:8080
-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses") and printed again by done() below.

local threads = {}
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + id)
  counter = 0
  non2xx = 0
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  local chars = {}
  for i = 1, 20 do
    local r = math.random(1, #alphabet)
    chars[i] = string.sub(alphabet, r, r)
  end
  local body = '{"client":' .. tostring(id) .. ',"n":' .. tostring(counter) .. ',"text":"a small durable write","done":false}'
  return wrk.format("PUT", "/v1/documents/bench/" .. table.concat(chars), headers, body)
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
