-- wrk script for test/bench/load.mjs (wrk -s). load.mjs prepends a `local cfg = {...}` chunk:
--   method, path, headers (table), parts (the body split at the placeholder), keyParts (the X-Request-Id likewise),
--   base, threads (wrk -t), width (digits of the number), out (the report file); or, instead of parts and
--   keyParts, items: a file of prepared requests, one `key<TAB>body` a line (request i of thread t sends line
--   i * threads + t + 1; past the end it sends an empty body, refused, and counts `exhausted`).
-- Request i of thread t carries number base + i * threads + t (zero-padded): unique across threads, and load.mjs
-- moves `base` past every number a run used, so each load's ids are new. The number goes into the body and into
-- X-Request-Id; the server echoes X-Request-Id (our apps and floor.mjs do), which is how a 2xx is matched to the
-- id it acknowledged: wrk gives response() no request. done() writes one JSON line (totals, latency in µs, per
-- thread counts, wrk's own CPU ticks from /proc/self/stat) and then the acknowledged ids, one a line.

local threads = {}

local function cpu_ticks()
  local f = io.open("/proc/self/stat", "r")
  if not f then return -1 end
  local line = f:read("*l")
  f:close()
  local rest = line:match("^%d+ %b() (.*)$")
  local fields = {}
  for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
  -- utime and stime: fields 14 and 15 of stat, 12 and 13 after "pid (comm) "
  return tonumber(fields[12]) + tonumber(fields[13])
end

-- After the script (and its prepared requests) is loaded in every state: done() counts wrk's CPU from here.
function init(args)
  ticks0 = cpu_ticks()
end

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Per thread (each wrk thread runs its own copy of this script; `tid` is set by setup above).
sent = 0
ok = 0
acked = {}
statuses = {}
local fmt = "%0" .. cfg.width .. "d"
local headers = {}
for k, v in pairs(cfg.headers) do headers[k] = v end
exhausted = 0
local items = nil
if cfg.items then
  items = {}
  for line in io.lines(cfg.items) do
    local tab = line:find("\t", 1, true)
    items[#items + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
end

function request()
  if items then
    local item = items[sent * cfg.threads + tid + 1]
    sent = sent + 1
    if not item then
      exhausted = exhausted + 1
      headers["X-Request-Id"] = "exhausted"
      return wrk.format(cfg.method, cfg.path, headers, "")
    end
    headers["X-Request-Id"] = item[1]
    return wrk.format(cfg.method, cfg.path, headers, item[2])
  end
  local n = string.format(fmt, cfg.base + sent * cfg.threads + tid)
  sent = sent + 1
  headers["X-Request-Id"] = table.concat(cfg.keyParts, n)
  return wrk.format(cfg.method, cfg.path, headers, table.concat(cfg.parts, n))
end

function response(status, hdrs, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    -- nil (no echo) appends nothing: load.mjs then finds fewer ids than 2xx and fails the load.
    acked[#acked + 1] = hdrs["x-request-id"] or hdrs["X-Request-Id"]
  else
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local ticks = cpu_ticks()
  if ticks >= 0 then
    local from = 0
    for _, t in ipairs(threads) do from = math.max(from, t:get("ticks0") or 0) end
    ticks = ticks - from
  end
  local e = summary.errors
  local per = {}
  local ids = {}
  for i, t in ipairs(threads) do
    local st = {}
    for code, count in pairs(t:get("statuses")) do st[#st + 1] = string.format('"%d":%d', code, count) end
    per[i] = string.format('{"sent":%d,"ok":%d,"exhausted":%d,"statuses":{%s}}', t:get("sent"), t:get("ok"),
      t:get("exhausted"), table.concat(st, ","))
    ids[i] = table.concat(t:get("acked"), "\n")
  end
  local f = assert(io.open(cfg.out, "w"))
  f:write(string.format(
    '{"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latencyUs":{"p50":%d,"p90":%d,"p97_5":%d,"p99":%d,"max":%d,"mean":%.1f},"cpuTicks":%d,"threads":[%s]}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(97.5), latency:percentile(99), latency.max,
    latency.mean, ticks, table.concat(per, ",")))
  for _, s in ipairs(ids) do
    if #s > 0 then f:write(s, "\n") end
  end
  f:close()
end
