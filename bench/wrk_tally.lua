-- Shared by bench/soak.sh and bench/rolling.sh (loaded with dofile after their `request`):
-- counts the answers by status in every wrk thread and prints `STATUS code count` lines at
-- the end, which the scripts read. `n` counts each thread's requests for `request`.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} ; n = 0 end
function response(status, headers, body) codes[status] = (codes[status] or 0) + 1 end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do all[k] = (all[k] or 0) + v end
  end
  for k, v in pairs(all) do io.write(string.format("STATUS %d %d\n", k, v)) end
end
