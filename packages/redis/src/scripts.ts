/**
 * The Lua scripts of the Redis store, one per `BalanceStore` method (see balance-store.ts in
 * @plangate/core for what each does; memory-store.ts there is the reference every script matches).
 * Kept as strings in a module so that bundlers ship them.
 *
 * Each script names its keys and arguments at its top (`local entry = KEYS[1]`, `local cost =
 * tonumber(ARGV[2])`) and uses only those names below; the doc comment above it says the same
 * list. Where a script takes an owner (the gate that keeps an outbox), it is always `ARGV[1]`.
 * An argument written back to Redis unchanged stays text (see the rules for numbers below).
 * Each script's SHA-1 is pinned in test/script-shas.test.ts: an edit to one is a reviewed change.
 *
 * The entry of one holder and plan is a hash, `entry`:
 *   u upstream, r reserved, p pending, a acked, e epoch, o observedAt,
 *   t total (absent: unknown), x expiresAt (absent: never expires),
 *   w 1 when the last observation raced another and predates it (see OBSERVE),
 *   v the remaining balance the last observation read (absent: none yet),
 *   lf acked before the last redemption acknowledged, lw the balance its answer gave (absent: failed),
 *   l:<id> one reservation held, "<credits>,<lease end>,<owner>" (owner empty without an outbox),
 *   m no lease ends before this (absent: none held), n the last reservation's number.
 * A missing field reads as 0. A missing hash is an entry never observed. `r` is the sum of the
 * leases (and of reservations an earlier version made, which have none).
 *
 * Leases are timed by Redis's clock (TIME), the one clock every process shares; every script that
 * reads or writes `r` first gives back the reservations whose lease ended (SWEEP), in the same
 * atomic step.
 *
 * Every reply is an integer or an array of integers (RESERVE's also carries the reservation's id
 * as text): Lua's `true` becomes 1 but `false` becomes a nil reply, which clients decode
 * differently. Numbers are written with `%d`, never tostring(): that formats with 14 significant
 * digits and would round large integers.
 */

/** Redis's clock (ms): what reservation leases, owner leases and deadlines are timed by. */
export const CLOCK = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

/** Whether Redis's clock is past `deadline`, the caller's (0: none). */
const LATE = `${CLOCK}
local function late(deadline)
  if deadline == 0 then return false end
  return clock() > deadline
end
`

export const PRELUDE = `${CLOCK}
local function int(v) return tonumber(v) or 0 end
-- Arguments to Redis as text: a Lua number would be formatted by Redis (and -0 is no integer).
local function add(key, field, n) return redis.call('HINCRBY', key, field, string.format('%d', n)) end
local function put(key, field, n) redis.call('HSET', key, field, string.format('%d', n)) end
-- An entry holding credits (reserved or pending) must never expire; an idle one may.
local function pin(key, r, p, ttl)
  if r > 0 or p > 0 then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ttl) end
end
local function available(u, r, p, x, now)
  if x and x <= now then return 0 end
  return math.max(0, u - r - p)
end
-- A lease field's value: credits, lease end, owner.
local function lease_of(v)
  local credits, ends, owner = string.match(v, '^(%d+),(%d+),(.*)$')
  return tonumber(credits), tonumber(ends), owner
end
-- Gives back every reservation of entry key whose lease ended by now (see leases.ts in core).
-- Most calls find none due (m is later): one HGET.
local function sweep(key, now)
  local m = tonumber(redis.call('HGET', key, 'm'))
  if not m or m > now then return end
  local all = redis.call('HGETALL', key)
  local back, nxt = 0, nil
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'l:' then
      local credits, ends = lease_of(all[i + 1])
      if ends <= now then
        back = back + credits
        redis.call('HDEL', key, all[i])
      elseif nxt == nil or ends < nxt then
        nxt = ends
      end
    end
  end
  if back ~= 0 then add(key, 'r', -back) end
  if nxt then put(key, 'm', nxt) else redis.call('HDEL', key, 'm') end
end
-- Takes reservation id out of entry key: its credits, or nil when it is not held.
local function take(key, id)
  local v = redis.call('HGET', key, 'l:' .. id)
  if not v then return nil end
  redis.call('HDEL', key, 'l:' .. id)
  local credits = lease_of(v)
  add(key, 'r', -credits)
  return credits
end
-- Re-pins entry key after a sweep or a take (see pin).
local function repin(key, ttl)
  local f = redis.call('HMGET', key, 'r', 'p')
  pin(key, int(f[1]), int(f[2]), ttl)
end
`

/**
 * KEYS: entry. ARGV: owner ('' none; the gate's, when it keeps an outbox; see outbox-scripts.ts:
 * an adopter gives back a dead owner's reservations), cost, now, ttlMs (-1: no limit), leaseMs,
 * idle ttl, deadline (Redis server time in ms; 0: none).
 * Reply: {status, remaining, hasExpiry, expiresAt, reservation id}; status 1 ok, 0 stale,
 * -1 insufficient, -2 too late (it reached Redis after the caller gave up on it, so it must not
 * take credits). The id is empty unless credits were taken.
 */
export const RESERVE = `${PRELUDE}
local entry = KEYS[1]
local owner = ARGV[1]
local cost = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local idle_ttl = ARGV[6]
local deadline = tonumber(ARGV[7])

local at = clock()
if deadline ~= 0 and at > deadline then return {-2, 0, 0, 0, ''} end
if redis.call('EXISTS', entry) == 0 then return {0, 0, 0, 0, ''} end
sweep(entry, at)
local f = redis.call('HMGET', entry, 'u', 'r', 'p', 'x', 'o')
local r, p, o = int(f[2]), int(f[3]), int(f[5])
local x = tonumber(f[4])
local left = available(int(f[1]), r, p, x, now)
if o == 0 or (ttl >= 0 and now - o > ttl) then return {0, left, 0, 0, ''} end
if left < cost then return {-1, left, 0, 0, ''} end
local id = ''
if cost > 0 then
  -- Unique for the entry's life and after: its number, and the time (the number starts again
  -- only once the entry is gone, which takes entryTtlMs idle).
  id = string.format('%d.%d', at, redis.call('HINCRBY', entry, 'n', '1'))
  local ends = at + lease
  add(entry, 'r', cost)
  redis.call('HSET', entry, 'l:' .. id, string.format('%d,%d,', cost, ends) .. owner)
  local m = tonumber(redis.call('HGET', entry, 'm'))
  if not m or ends < m then put(entry, 'm', ends) end
end
pin(entry, r + cost, p, idle_ttl)
if x then return {1, left - cost, 1, x, id} end
return {1, left - cost, 0, 0, id}
`

/**
 * KEYS: entry. ARGV: reservation id, idle ttl. Nothing when the reservation is not held (its
 * lease ended, or it was released already). Reply 1 (0: no such entry).
 */
export const RELEASE = `${PRELUDE}
local entry = KEYS[1]
local id = ARGV[1]
local idle_ttl = ARGV[2]

if redis.call('EXISTS', entry) == 0 then return 0 end
sweep(entry, clock())
take(entry, id)
repin(entry, idle_ttl)
return 1
`

/**
 * Served: the reservation leaves reserved, `served` goes to pending (the rest back). One no longer
 * held (its lease ended) is late: `served` is taken from what is available, and what that did
 * not cover is the shortfall. Returns late (1/0), shortfall. Shared with the outbox's commit.
 */
export const COMMIT_STEP = `
local function commit_entry(key, id, served, ttl)
  local now = clock()
  sweep(key, now)
  local late, short = 0, 0
  if not take(key, id) and served > 0 then
    local f = redis.call('HMGET', key, 'u', 'r', 'p', 'x')
    late = 1
    short = math.max(0, served - available(int(f[1]), int(f[2]), int(f[3]), tonumber(f[4]), now))
  end
  add(key, 'p', served)
  repin(key, ttl)
  return late, short
end
`

/**
 * KEYS: entry. ARGV: reservation id, cost, idle ttl, served (optional: all of cost).
 * Reply {late, shortfall} (see CommitOutcome in core); an entry not held at all: late if anything was served.
 */
export const COMMIT = `${PRELUDE}${COMMIT_STEP}
local entry = KEYS[1]
local id = ARGV[1]
local cost = ARGV[2]
local idle_ttl = ARGV[3]
local served = tonumber(ARGV[4] or cost)

if redis.call('EXISTS', entry) == 0 then
  if served > 0 then return {1, 0} end
  return {0, 0}
end
local late, short = commit_entry(entry, id, served, idle_ttl)
return {late, short}
`

/**
 * A redemption ended: `amount` leaves pending; `ok` with the API's remaining balance (as of a
 * call that started at epoch `epoch`, acked `acked`), or not (counted as spent, read again).
 * Shared with the outbox's settle.
 */
export const SETTLE_STEP = `
local function settle_entry(key, amount, ok, remainingAfter, epoch, acked, ttl)
  sweep(key, clock())
  local p = add(key, 'p', -amount)
  local f = redis.call('HMGET', key, 'u', 'a', 'e', 'r', 'v')
  local u, a = int(f[1]), int(f[2])
  if not ok then
    u = u - amount
    redis.call('HSET', key, 'o', '0')
  elseif epoch == int(f[3]) then
    -- The word bounds the count: the count less this one is kept between them (settleOn).
    u = math.max(remainingAfter - (a - acked), math.min(u - amount, remainingAfter + p))
  else
    -- A balance read while this was in flight set u: taken off unless the read already held it.
    local observed = tonumber(f[5])
    if not observed or remainingAfter < observed then u = u - amount end
  end
  put(key, 'u', u)
  put(key, 'a', a + amount)
  put(key, 'lf', a)
  if ok then put(key, 'lw', remainingAfter) else redis.call('HDEL', key, 'lw') end
  pin(key, int(f[4]), p, ttl)
end
`

/**
 * KEYS: entry. ARGV: amount, ok (1/0), remainingAfter, startedAt.epoch, startedAt.acked, idle ttl.
 * Reply 1 (0: no such entry).
 */
export const SETTLE = `${PRELUDE}${SETTLE_STEP}
local entry = KEYS[1]
local amount = tonumber(ARGV[1])
local ok = ARGV[2] == '1'
local remaining_after = tonumber(ARGV[3])
local epoch = tonumber(ARGV[4])
local acked = tonumber(ARGV[5])
local idle_ttl = ARGV[6]

if redis.call('EXISTS', entry) == 0 then return 0 end
settle_entry(entry, amount, ok, remaining_after, epoch, acked, idle_ttl)
return 1
`

/**
 * KEYS: entry. ARGV: remaining, total ('' unknown), expiresAt ('' never), startedAt.acked, now,
 * idle ttl, startedAt.epoch. Creates the entry when there is none. Reply 1.
 *
 * Also notes, in field w, whether this answer raced another observation and is older than it
 * (fewer credits ever bought): a read that started before another process's order landed,
 * applied after it, erases that order's credits. LOCK refuses to let anyone order on it.
 */
export const OBSERVE = `${PRELUDE}
local entry = KEYS[1]
-- As text: written to the entry as given.
local remaining = ARGV[1]
local total = ARGV[2]
local expires_at = ARGV[3]
local acked = tonumber(ARGV[4])
local now = ARGV[5]
local idle_ttl = ARGV[6]
local epoch = tonumber(ARGV[7])

sweep(entry, clock())
local f = redis.call('HMGET', entry, 'a', 'r', 'p', 'u', 'e', 't', 'lf', 'lw')
local a, r, p = int(f[1]), int(f[2]), int(f[3])
-- The redemptions acknowledged during the read are taken off, unless only one was and its answer
-- shows it burned before the read (observeOn in entry-steps.ts).
local last_word = tonumber(f[8])
local one = tonumber(f[7]) == acked and last_word and last_word >= tonumber(remaining)
local u = tonumber(remaining) - (one and 0 or (a - acked))
-- Fewer credits ever bought than already seen: this answer predates an order that has landed.
-- (Without totals, less remaining: noisier, redemptions lower it too.)
local seen, bought = tonumber(f[6]), tonumber(total)
local older
if seen and bought then older = bought < seen else older = u < int(f[4]) end
local raced = epoch ~= int(f[5]) and older
put(entry, 'u', u)
put(entry, 'a', a)
put(entry, 'r', r)
put(entry, 'p', p)
redis.call('HSET', entry, 'o', now, 'w', raced and '1' or '0', 'v', remaining)
if total == '' then redis.call('HDEL', entry, 't') else redis.call('HSET', entry, 't', total) end
if expires_at == '' then redis.call('HDEL', entry, 'x') else redis.call('HSET', entry, 'x', expires_at) end
redis.call('HINCRBY', entry, 'e', '1')
pin(entry, r, p, idle_ttl)
return 1
`

/**
 * KEYS: entry. ARGV: idle ttl. Gives back ended leases first, as every step does.
 * Reply: {acked, epoch, upstream, hasTotal, total, hasExpiry, expiresAt, reserved, pending}.
 */
export const SNAPSHOT = `${PRELUDE}
local entry = KEYS[1]
local idle_ttl = ARGV[1]

if redis.call('EXISTS', entry) == 1 then
  sweep(entry, clock())
  repin(entry, idle_ttl)
end
local f = redis.call('HMGET', entry, 'a', 'e', 'u', 't', 'x', 'r', 'p')
local function flag(v) if v then return 1 end return 0 end
return {int(f[1]), int(f[2]), int(f[3]), flag(f[4]), int(f[4]), flag(f[5]), int(f[5]), int(f[6]), int(f[7])}
`

/**
 * The spend guard: one sorted set of order times per holder and plan, shared by every process.
 * KEYS: orders. ARGV: now, windowMs, max, a member unique to this call, deadline. Reply 1
 * counted, 0 refused, -2 too late (the caller gave up: counting it would spend the guard on no order).
 */
export const RECORD_ORDER = `${LATE}
local orders = KEYS[1]
local now = ARGV[1]
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local member = ARGV[4]
local deadline = tonumber(ARGV[5])

if late(deadline) then return -2 end
-- Kept: orders with now - at < window.
redis.call('ZREMRANGEBYSCORE', orders, '-inf', string.format('%d', tonumber(now) - window))
if redis.call('ZCARD', orders) >= max then return 0 end
redis.call('ZADD', orders, now, member)
-- Only to collect it: the window is kept by the scores and the callers' clocks, so a minute more.
redis.call('PEXPIRE', orders, string.format('%d', window + 60000))
return 1
`

/**
 * The order lock: `SET NX PX` with a random token. KEYS: lock, entry. ARGV: token, ttl, deadline.
 * Reply 1 taken, 0 not, -2 too late (a lock nobody waits for would hold every order back for its
 * ttl). Not taken either while the entry's last observation raced another and lowered it (see
 * OBSERVE): the caller then waits and reads the balance again, which clears it, instead of
 * ordering on an answer that may predate an order just placed.
 */
export const LOCK = `${LATE}
local lock = KEYS[1]
local entry = KEYS[2]
local token = ARGV[1]
local ttl = ARGV[2]
local deadline = tonumber(ARGV[3])

if late(deadline) then return -2 end
if redis.call('HGET', entry, 'w') == '1' then return 0 end
if redis.call('SET', lock, token, 'NX', 'PX', ttl) then return 1 end
return 0
`

/** The order lock's release: delete it only if this holder's token is still the one set. KEYS: lock. ARGV: token. */
export const UNLOCK = `
local lock = KEYS[1]
local token = ARGV[1]

if redis.call('GET', lock) == token then return redis.call('DEL', lock) end
return 0
`

export const BALANCE_SCRIPTS = { RESERVE, RELEASE, COMMIT, SETTLE, OBSERVE, SNAPSHOT, RECORD_ORDER, LOCK, UNLOCK }
