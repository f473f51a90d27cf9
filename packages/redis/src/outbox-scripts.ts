import { CLOCK, COMMIT_STEP, PRELUDE, SETTLE_STEP } from './scripts'

/**
 * The outbox's scripts (see SettlementOutbox in @plangate/core). Beside the entry of one holder
 * and plan, in its hash slot, a hash `outbox` (`…{plan:holder}:outbox`) keeps, per owner (one
 * gate of one process):
 *   q:<owner> credits recorded (served, not yet sent),  f:<owner> credits in flight,
 *   b:<owner> the entry when they went in flight ("upstream,acked,total"),
 *   s:<owner> the sealed record of who pays (opaque here).
 * Outside any holder's slot, each touched alone: the owners' leases, a sorted set scored by
 * the Redis time each lapses (`…outbox:owners`), and each owner's index of keys
 * (`…outbox:keys:<owner>`). Leases use Redis's clock, so the processes' clocks need not agree.
 * What an owner has reserved is in the entry, each reservation naming its owner (see scripts.ts);
 * r:<owner>, a count of them, is what an earlier version kept here: still read and given back.
 */

/** Whether any owner has credits recorded or in flight in outbox `key`. */
const BUSY = `
local function busy(key)
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local kind = string.sub(all[i], 1, 2)
    if (kind == 'r:' or kind == 'q:' or kind == 'f:') and (tonumber(all[i + 1]) or 0) > 0 then return true end
  end
  return false
end
`

/**
 * KEYS: entry, outbox. ARGV: owner, reservation id, cost, idle ttl, sealed record ('' none),
 * served (optional: all of cost). Reply {hasRecord, late, shortfall}: hasRecord 0 when the owner
 * has no record of who pays and none was given; late and shortfall as COMMIT's.
 */
export const COMMIT_RECORDED = `${PRELUDE}${COMMIT_STEP}
local entry = KEYS[1]
local outbox = KEYS[2]
local owner = ARGV[1]
local id = ARGV[2]
local cost = ARGV[3]
local idle_ttl = ARGV[4]
local sealed = ARGV[5]
local served = tonumber(ARGV[6] or cost)

local late, short = 0, 0
if redis.call('EXISTS', entry) == 1 then
  late, short = commit_entry(entry, id, served, idle_ttl)
elseif served > 0 then
  late = 1
end
redis.call('HINCRBY', outbox, 'q:' .. owner, served)
redis.call('PERSIST', outbox)
if sealed ~= '' then
  redis.call('HSET', outbox, 's:' .. owner, sealed)
  return {1, late, short}
end
return {redis.call('HEXISTS', outbox, 's:' .. owner), late, short}
`

/** KEYS: outbox. ARGV: owner, sealed record. Reply 1. */
export const WRITE_RECORD = `
local outbox = KEYS[1]
local owner = ARGV[1]
local sealed = ARGV[2]

redis.call('HSET', outbox, 's:' .. owner, sealed)
return 1
`

/**
 * KEYS: entry, outbox, order lock. ARGV: owner, amount.
 * Reply 1 started, 0 the order lock is held (wait), -1 the owner has fewer recorded (adopted),
 * -2 there is no entry at all (Redis lost its data: an entry holding credits never expires).
 */
export const START_REDEMPTION = `${PRELUDE}
local entry = KEYS[1]
local outbox = KEYS[2]
local lock = KEYS[3]
local owner = ARGV[1]
local amount = tonumber(ARGV[2])

if redis.call('EXISTS', entry) == 0 then return -2 end
if redis.call('EXISTS', lock) == 1 then return 0 end
if int(redis.call('HGET', outbox, 'q:' .. owner)) < amount then return -1 end
add(outbox, 'q:' .. owner, -amount)
if add(outbox, 'f:' .. owner, amount) == amount then
  local e = redis.call('HMGET', entry, 'u', 'a', 't')
  redis.call('HSET', outbox, 'b:' .. owner, (e[1] or '0') .. ',' .. (e[2] or '0') .. ',' .. (e[3] or ''))
end
return 1
`

/**
 * KEYS: entry, outbox. ARGV: owner, amount, ok (1/0), remainingAfter, startedAt.epoch,
 * startedAt.acked, idle ttl. Reply 1, or 0 (nothing done) when the owner has fewer in flight.
 */
export const SETTLE_RECORDED = `${PRELUDE}${SETTLE_STEP}${BUSY}
local entry = KEYS[1]
local outbox = KEYS[2]
local owner = ARGV[1]
local amount = tonumber(ARGV[2])
local ok = ARGV[3] == '1'
local remaining_after = tonumber(ARGV[4])
local epoch = tonumber(ARGV[5])
local acked = tonumber(ARGV[6])
local idle_ttl = ARGV[7]

if int(redis.call('HGET', outbox, 'f:' .. owner)) < amount then return 0 end
if redis.call('EXISTS', entry) == 1 then
  settle_entry(entry, amount, ok, remaining_after, epoch, acked, idle_ttl)
end
if add(outbox, 'f:' .. owner, -amount) <= 0 then redis.call('HDEL', outbox, 'f:' .. owner, 'b:' .. owner) end
-- Idle (nothing recorded or in flight by anyone): it goes with the entry, records of who pays too.
if not busy(outbox) then redis.call('PEXPIRE', outbox, idle_ttl) end
return 1
`

/** KEYS: outbox. Reply: the credits in flight, every owner's. */
export const IN_FLIGHT = `
local outbox = KEYS[1]

local all, sum = redis.call('HGETALL', outbox), 0
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'f:' then sum = sum + (tonumber(all[i + 1]) or 0) end
end
return sum
`

/**
 * KEYS: outbox, entry. ARGV: owner. Reply: {recorded, in flight, baseline text, sealed record,
 * reserved} ('' when absent); reserved counts the owner's reservations whose lease has not ended.
 */
export const READ_RECORD = `${PRELUDE}
local outbox = KEYS[1]
local entry = KEYS[2]
local owner = ARGV[1]

local f = redis.call('HMGET', outbox, 'q:' .. owner, 'f:' .. owner, 'b:' .. owner, 's:' .. owner, 'r:' .. owner)
local reserved, now = int(f[5]), clock()
local all = redis.call('HGETALL', entry)
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'l:' then
    local credits, ends, holder = lease_of(all[i + 1])
    if holder == owner and ends > now then reserved = reserved + credits end
  end
end
return {int(f[1]), int(f[2]), f[3] or '', f[4] or '', reserved}
`

/**
 * KEYS: outbox, entry. ARGV: from (the owner adopted), to, idle ttl. from's recorded and
 * in-flight credits become to's recorded, its record of who pays to's unless to has one; the
 * reservations from still held (requests it was serving when it died) go back to the entry, so a
 * release of one that arrives after all does nothing. Reply: the credits moved.
 */
export const ADOPT = `${PRELUDE}
local outbox = KEYS[1]
local entry = KEYS[2]
local from = ARGV[1]
local to = ARGV[2]
local idle_ttl = ARGV[3]

if redis.call('EXISTS', entry) == 1 then
  sweep(entry, clock())
  -- What an earlier version counted here, and the leases naming from.
  local back = int(redis.call('HGET', outbox, 'r:' .. from))
  local all = redis.call('HGETALL', entry)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'l:' then
      local credits, _, owner = lease_of(all[i + 1])
      if owner == from then
        back = back + credits
        redis.call('HDEL', entry, all[i])
      end
    end
  end
  if back > 0 then add(entry, 'r', -back) end
  repin(entry, idle_ttl)
end
local moved = int(redis.call('HGET', outbox, 'q:' .. from)) + int(redis.call('HGET', outbox, 'f:' .. from))
if moved > 0 then add(outbox, 'q:' .. to, moved) end
local sealed = redis.call('HGET', outbox, 's:' .. from)
if sealed and redis.call('HEXISTS', outbox, 's:' .. to) == 0 then redis.call('HSET', outbox, 's:' .. to, sealed) end
redis.call('HDEL', outbox, 'r:' .. from, 'q:' .. from, 'f:' .. from, 'b:' .. from, 's:' .. from)
return moved
`

/** KEYS: the owner's index. ARGV: key. Reply 1. */
export const INDEX_KEY = `
local index = KEYS[1]
local key = ARGV[1]

redis.call('SADD', index, key)
return 1
`

/** KEYS: the owner's index. Reply: its keys. */
export const OWNER_KEYS = `
local index = KEYS[1]

return redis.call('SMEMBERS', index)
`

/** KEYS: the owners. ARGV: owner, lease ms. Reply 1. */
export const RENEW_OWNER = `${CLOCK}
local owners = KEYS[1]
local owner = ARGV[1]
local lease = tonumber(ARGV[2])

redis.call('ZADD', owners, string.format('%d', clock() + lease), owner)
return 1
`

/**
 * KEYS: the owners. ARGV: lease ms. Claims one owner whose lease lapsed: its lease is renewed
 * for the claimant (who settles its records; if the claimant dies too, it lapses again).
 * Reply: {owner}, or {} when none lapsed.
 */
export const CLAIM_OWNER = `${CLOCK}
local owners = KEYS[1]
local lease = tonumber(ARGV[1])

local now = clock()
local dead = redis.call('ZRANGEBYSCORE', owners, '-inf', '(' .. string.format('%d', now), 'LIMIT', 0, 1)
if #dead == 0 then return {} end
redis.call('ZADD', owners, string.format('%d', now + lease), dead[1])
return dead
`

/** KEYS: the owners. ARGV: owner. Reply 1. */
export const FORGET_OWNER = `
local owners = KEYS[1]
local owner = ARGV[1]

redis.call('ZREM', owners, owner)
return 1
`

/** KEYS: the owner's index. Reply 1. */
export const DROP_INDEX = `
local index = KEYS[1]

redis.call('DEL', index)
return 1
`

export const OUTBOX_SCRIPTS = {
  COMMIT_RECORDED,
  WRITE_RECORD,
  START_REDEMPTION,
  SETTLE_RECORDED,
  IN_FLIGHT,
  READ_RECORD,
  ADOPT,
  INDEX_KEY,
  OWNER_KEYS,
  RENEW_OWNER,
  CLAIM_OWNER,
  FORGET_OWNER,
  DROP_INDEX,
}
