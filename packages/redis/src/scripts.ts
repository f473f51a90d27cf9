/**
 * The Lua scripts of the Redis store, one per `BalanceStore` method (see balance-store.ts in
 * @plangate/core for what each does; memory-store.ts there is the reference every script matches).
 * Kept as strings in a module so that bundlers ship them.
 *
 * The entry of one holder and plan is a hash, `KEYS[1]`:
 *   u upstream, r reserved, p pending, a acked, e epoch, o observedAt,
 *   t total (absent: unknown), x expiresAt (absent: never expires),
 *   w 1 when the last observation raced another and predates it (see OBSERVE).
 * A missing field reads as 0. A missing hash is an entry never observed.
 *
 * Every reply is an integer or an array of integers: Lua's `true` becomes 1 but `false` becomes a
 * nil reply, which clients decode differently. Numbers are written with `%d`, never tostring():
 * that formats with 14 significant digits and would round large integers.
 */

/** Whether Redis's clock is past ARGV[n], the caller's deadline (0: none). */
const LATE = `
local function late(n)
  local deadline = tonumber(ARGV[n])
  if deadline == 0 then return false end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > deadline
end
`

export const PRELUDE = `
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
  return u - r - p
end
`

/**
 * KEYS: entry, and (for a gate keeping an outbox) its outbox, where the reservation is counted
 * against ARGV[5], the owner (see outbox-scripts.ts: an adopter releases a dead owner's).
 * ARGV: cost, now, ttlMs (-1: no limit), deadline (Redis server time in ms; 0: none), owner.
 * Reply: {status, remaining, hasExpiry, expiresAt}; status 1 ok, 0 stale, -1 insufficient,
 * -2 too late (it reached Redis after the caller gave up on it, so it must not take credits).
 */
export const RESERVE = `${PRELUDE}${LATE}
local cost, now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if late(4) then return {-2, 0, 0, 0} end
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'p', 'x', 'o')
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0, 0} end
local r, p, o = int(f[2]), int(f[3]), int(f[5])
local x = tonumber(f[4])
local left = available(int(f[1]), r, p, x, now)
if o == 0 or (ttl >= 0 and now - o > ttl) then return {0, math.max(0, left), 0, 0} end
if left < cost then return {-1, math.max(0, left), 0, 0} end
add(KEYS[1], 'r', cost)
if r + cost > 0 or p > 0 then redis.call('PERSIST', KEYS[1]) end
if KEYS[2] then
  add(KEYS[2], 'r:' .. ARGV[5], cost)
  redis.call('PERSIST', KEYS[2])
end
if x then return {1, left - cost, 1, x} end
return {1, left - cost, 0, 0}
`

/** KEYS: entry, and optionally the outbox (see RESERVE). ARGV: cost, idle ttl, owner. Reply 1 (0: no such entry). */
export const RELEASE = `${PRELUDE}
if KEYS[2] then add(KEYS[2], 'r:' .. ARGV[3], -tonumber(ARGV[1])) end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local r = add(KEYS[1], 'r', -tonumber(ARGV[1]))
pin(KEYS[1], r, int(redis.call('HGET', KEYS[1], 'p')), ARGV[2])
return 1
`

/** Served: `cost` leaves reserved, `served` of it goes to pending (the rest back). Shared with the outbox's commit. */
export const COMMIT_STEP = `
local function commit_entry(key, cost, served, ttl)
  local r = add(key, 'r', -cost)
  local p = add(key, 'p', served)
  pin(key, r, p, ttl)
end
`

/** ARGV: cost, idle ttl, served (optional: all of cost). Reply 1 (0: no such entry). */
export const COMMIT = `${PRELUDE}${COMMIT_STEP}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cost = tonumber(ARGV[1])
commit_entry(KEYS[1], cost, tonumber(ARGV[3] or cost), ARGV[2])
return 1
`

/**
 * A redemption ended: `amount` leaves pending; `ok` with the API's remaining balance (as of a
 * call that started at epoch `epoch`, acked `acked`), or not (counted as spent, read again).
 * Shared with the outbox's settle.
 */
export const SETTLE_STEP = `
local function settle_entry(key, amount, ok, remainingAfter, epoch, acked, ttl)
  local p = add(key, 'p', -amount)
  local f = redis.call('HMGET', key, 'u', 'a', 'e', 'r')
  local u, a = int(f[1]), int(f[2])
  if ok and epoch == int(f[3]) then
    -- Fresh word from upstream, less what other redemptions may have taken since it started.
    u = remainingAfter - (a - acked)
  else
    -- A balance was observed while this redemption was in flight and may not include it.
    u = u - amount
    if not ok then redis.call('HSET', key, 'o', '0') end
  end
  put(key, 'u', u)
  put(key, 'a', a + amount)
  pin(key, int(f[4]), p, ttl)
end
`

/**
 * ARGV: amount, ok (1/0), remainingAfter, startedAt.epoch, startedAt.acked, idle ttl.
 * Reply 1 (0: no such entry).
 */
export const SETTLE = `${PRELUDE}${SETTLE_STEP}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
settle_entry(KEYS[1], tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
return 1
`

/**
 * ARGV: remaining, total ('' unknown), expiresAt ('' never), startedAt.acked, now, idle ttl,
 * startedAt.epoch. Creates the entry when there is none. Reply 1.
 *
 * Also notes, in field w, whether this answer raced another observation and is older than it
 * (fewer credits ever bought): a read that started before another process's order landed,
 * applied after it, erases that order's credits. LOCK refuses to let anyone order on it.
 */
export const OBSERVE = `${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'a', 'r', 'p', 'u', 'e', 't')
local a, r, p = int(f[1]), int(f[2]), int(f[3])
local u = tonumber(ARGV[1]) - (a - tonumber(ARGV[4]))
-- Fewer credits ever bought than already seen: this answer predates an order that has landed.
-- (Without totals, less remaining: noisier, redemptions lower it too.)
local seen, total = tonumber(f[6]), tonumber(ARGV[2])
local older
if seen and total then older = total < seen else older = u < int(f[4]) end
local raced = tonumber(ARGV[7]) ~= int(f[5]) and older
put(KEYS[1], 'u', u)
put(KEYS[1], 'a', a)
put(KEYS[1], 'r', r)
put(KEYS[1], 'p', p)
redis.call('HSET', KEYS[1], 'o', ARGV[5], 'w', raced and '1' or '0')
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 't') else redis.call('HSET', KEYS[1], 't', ARGV[2]) end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'x') else redis.call('HSET', KEYS[1], 'x', ARGV[3]) end
redis.call('HINCRBY', KEYS[1], 'e', '1')
pin(KEYS[1], r, p, ARGV[6])
return 1
`

/** No ARGV. Reply: {acked, epoch, upstream, hasTotal, total, hasExpiry, expiresAt, reserved, pending}. */
export const SNAPSHOT = `
local f = redis.call('HMGET', KEYS[1], 'a', 'e', 'u', 't', 'x', 'r', 'p')
local function int(v) return tonumber(v) or 0 end
local function flag(v) if v then return 1 end return 0 end
return {int(f[1]), int(f[2]), int(f[3]), flag(f[4]), int(f[4]), flag(f[5]), int(f[5]), int(f[6]), int(f[7])}
`

/**
 * The spend guard: one sorted set of order times per holder and plan, `KEYS[1]`, shared by every
 * process. ARGV: now, windowMs, max, a member unique to this call, deadline. Reply 1 counted,
 * 0 refused, -2 too late (the caller gave up: counting it would spend the guard on no order).
 */
export const RECORD_ORDER = `${LATE}
if late(5) then return -2 end
local now, window, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- Kept: orders with now - at < window.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
if redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
-- Only to collect it: the window is kept by the scores and the callers' clocks, so a minute more.
redis.call('PEXPIRE', KEYS[1], string.format('%d', window + 60000))
return 1
`

/**
 * The order lock: `SET NX PX` with a random token, `KEYS[1]` the lock, `KEYS[2]` the entry.
 * ARGV: token, ttl, deadline. Reply 1 taken, 0 not, -2 too late (a lock nobody waits for would
 * hold every order back for its ttl). Not taken either while the entry's last observation
 * raced another and lowered it (see OBSERVE): the caller then waits and reads the balance again,
 * which clears it, instead of ordering on an answer that may predate an order just placed.
 */
export const LOCK = `${LATE}
if late(3) then return -2 end
if redis.call('HGET', KEYS[2], 'w') == '1' then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`

/** The order lock's release: delete it only if this holder's token is still the one set. ARGV: token. */
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

export const BALANCE_SCRIPTS = { RESERVE, RELEASE, COMMIT, SETTLE, OBSERVE, SNAPSHOT, RECORD_ORDER, LOCK, UNLOCK }
