-- wrk script: GET a path; "{member}" in BENCH_PATH is replaced by a random member number.
local numbers, template = {}, os.getenv("BENCH_PATH")
local next_thread = 0

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  if string.find(template, "{member}", 1, true) then
    for line in io.lines(os.getenv("BENCH_MEMBERS")) do numbers[#numbers + 1] = line end
  end
  math.randomseed(os.time() + tid)
end

request = function()
  local path = template
  if #numbers > 0 then path = string.gsub(template, "{member}", numbers[math.random(#numbers)]) end
  return wrk.format("GET", path, {["Authorization"] = "Api-Key " .. (os.getenv("BENCH_KEY") or "")})
end

done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
