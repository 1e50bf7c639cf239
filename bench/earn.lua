-- wrk script: POST /api/v1/transactions with random members, unique external ids and idempotency keys.
-- Reads member numbers from BENCH_MEMBERS (one per line) and the key from BENCH_KEY.
local counter, thread_id, numbers = 0, 0, {}
local next_thread = 0
local run = os.time()

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  for line in io.lines(os.getenv("BENCH_MEMBERS")) do numbers[#numbers + 1] = line end
  math.randomseed(run + tid)
  thread_id = tid
end

request = function()
  counter = counter + 1
  local id = string.format("w%d-%d-%d", run, thread_id, counter)
  local body = string.format('{"member":"%s","external_id":"%s","amount":"%d.50","currency":"EUR"}',
    numbers[math.random(#numbers)], id, math.random(5, 300))
  return wrk.format("POST", "/api/v1/transactions", {
    ["Authorization"] = "Api-Key " .. os.getenv("BENCH_KEY"),
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = id,
  }, body)
end

done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
