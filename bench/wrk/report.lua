-- Shared by every script: thread ids for walking prepared lists, and one JSON line at the end.
-- The main state numbers the threads in setup(); each thread's own state reads `tid` in init().

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- The lines of `path` that belong to thread `tid` of `nthreads` (line i goes to thread i % n).
function load_lines(path, tid, nthreads)
   local items = {}
   local i = 0
   for line in io.lines(path) do
      if line ~= "" then
         if i % nthreads == tid then
            table.insert(items, line)
         end
         i = i + 1
      end
   end
   return items
end

function split(line)
   local fields = {}
   for field in string.gmatch(line, "([^\t]+)") do
      table.insert(fields, field)
   end
   return fields
end

function done(summary, latency, requests)
   local reused = 0
   local walked = 0
   for _, thread in ipairs(threads) do
      reused = reused + (tonumber(thread:get("reused")) or 0)
      walked = walked + (tonumber(thread:get("walked")) or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"reused":%d,"walked":%d}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, reused, walked))
end
