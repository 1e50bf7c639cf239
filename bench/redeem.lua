-- wrk script: POST /api/v1/redemptions, unique idempotency keys. BENCH_HOT_MEMBER set: every client
-- redeems for that one member (contention on its row); else random members from BENCH_MEMBERS.
-- BENCH_REWARD is the reward id, BENCH_KEY the partner key. Answers are counted by status:
-- 201 redeemed, 409 refused (e.g. insufficient_points), anything else is an error.
local counter, thread_id, numbers = 0, 0, {}
local next_thread, threads = 0, {}
local run = os.time()
created, refused, other = 0, 0, 0  -- globals: done() reads them with thread:get

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  local hot = os.getenv("BENCH_HOT_MEMBER")
  if hot and hot ~= "" then
    numbers[1] = hot
  else
    for line in io.lines(os.getenv("BENCH_MEMBERS")) do numbers[#numbers + 1] = line end
  end
  math.randomseed(run + tid)
  thread_id = tid
end

request = function()
  counter = counter + 1
  local id = string.format("r%d-%d-%d", run, thread_id, counter)
  local body = string.format('{"member":"%s","reward":%s}', numbers[math.random(#numbers)], os.getenv("BENCH_REWARD"))
  return wrk.format("POST", "/api/v1/redemptions", {
    ["Authorization"] = "Api-Key " .. os.getenv("BENCH_KEY"),
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = id,
  }, body)
end

response = function(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 409 then refused = refused + 1
  else other = other + 1 end
end

done = function(summary, latency, requests)
  local c, r, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    r = r + thread:get("refused")
    o = o + thread:get("other")
  end
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d, "non2xx": %d, "created": %d, "refused": %d, "other": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status,
    c, r, o))
end
