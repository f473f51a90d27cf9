import { COMMIT_STEP, PRELUDE, SETTLE_STEP } from './scripts'

/**
 * The outbox's scripts (see SettlementOutbox in @plangate/core). Beside the entry of one holder
 * and plan, in its hash slot, a hash `KEYS[2]` (`…{plan:holder}:outbox`) keeps, per owner (one
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

const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

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
 * KEYS: entry, outbox. ARGV: reservation id, cost, idle ttl, owner, sealed record ('' none),
 * served (optional: all of cost). Reply {hasRecord, late, shortfall}: hasRecord 0 when the owner
 * has no record of who pays and none was given; late and shortfall as COMMIT's.
 */
export const COMMIT_RECORDED = `${PRELUDE}${COMMIT_STEP}
local owner = ARGV[4]
local served = tonumber(ARGV[6] or ARGV[2])
local late, short = 0, 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  late, short = commit_entry(KEYS[1], ARGV[1], served, ARGV[3])
elseif served > 0 then
  late = 1
end
redis.call('HINCRBY', KEYS[2], 'q:' .. owner, served)
redis.call('PERSIST', KEYS[2])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[2], 's:' .. owner, ARGV[5])
  return {1, late, short}
end
return {redis.call('HEXISTS', KEYS[2], 's:' .. owner), late, short}
`

/** KEYS: outbox. ARGV: owner, sealed record. Reply 1. */
export const WRITE_RECORD = `
redis.call('HSET', KEYS[1], 's:' .. ARGV[1], ARGV[2])
return 1
`

/**
 * KEYS: entry, outbox, order lock. ARGV: owner, amount.
 * Reply 1 started, 0 the order lock is held (wait), -1 the owner has fewer recorded (adopted),
 * -2 there is no entry at all (Redis lost its data: an entry holding credits never expires).
 */
export const START_REDEMPTION = `${PRELUDE}
local owner, amount = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if int(redis.call('HGET', KEYS[2], 'q:' .. owner)) < amount then return -1 end
add(KEYS[2], 'q:' .. owner, -amount)
if add(KEYS[2], 'f:' .. owner, amount) == amount then
  local e = redis.call('HMGET', KEYS[1], 'u', 'a', 't')
  redis.call('HSET', KEYS[2], 'b:' .. owner, (e[1] or '0') .. ',' .. (e[2] or '0') .. ',' .. (e[3] or ''))
end
return 1
`

/**
 * KEYS: entry, outbox. ARGV: amount, ok (1/0), remainingAfter, startedAt.epoch, startedAt.acked,
 * idle ttl, owner. Reply 1, or 0 (nothing done) when the owner has fewer in flight.
 */
export const SETTLE_RECORDED = `${PRELUDE}${SETTLE_STEP}${BUSY}
local amount, owner = tonumber(ARGV[1]), ARGV[7]
if int(redis.call('HGET', KEYS[2], 'f:' .. owner)) < amount then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then
  settle_entry(KEYS[1], amount, ARGV[2] == '1', tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
end
if add(KEYS[2], 'f:' .. owner, -amount) <= 0 then redis.call('HDEL', KEYS[2], 'f:' .. owner, 'b:' .. owner) end
-- Idle (nothing recorded or in flight by anyone): it goes with the entry, records of who pays too.
if not busy(KEYS[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[6]) end
return 1
`

/** KEYS: outbox. Reply: the credits in flight, every owner's. */
export const IN_FLIGHT = `
local all, sum = redis.call('HGETALL', KEYS[1]), 0
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
local f = redis.call('HMGET', KEYS[1], 'q:' .. ARGV[1], 'f:' .. ARGV[1], 'b:' .. ARGV[1], 's:' .. ARGV[1], 'r:' .. ARGV[1])
local reserved, now = int(f[5]), clock()
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'l:' then
    local credits, ends, owner = lease_of(all[i + 1])
    if owner == ARGV[1] and ends > now then reserved = reserved + credits end
  end
end
return {int(f[1]), int(f[2]), f[3] or '', f[4] or '', reserved}
`

/**
 * KEYS: outbox, entry. ARGV: from, to, idle ttl. from's recorded and in-flight credits become
 * to's recorded, its record of who pays to's unless to has one; the reservations from still held
 * (requests it was serving when it died) go back to the entry, so a release of one that arrives
 * after all does nothing. Reply: the credits moved.
 */
export const ADOPT = `${PRELUDE}
local from, to = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[2]) == 1 then
  sweep(KEYS[2], clock())
  -- What an earlier version counted here, and the leases naming from.
  local back = int(redis.call('HGET', KEYS[1], 'r:' .. from))
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'l:' then
      local credits, _, owner = lease_of(all[i + 1])
      if owner == from then
        back = back + credits
        redis.call('HDEL', KEYS[2], all[i])
      end
    end
  end
  if back > 0 then add(KEYS[2], 'r', -back) end
  repin(KEYS[2], ARGV[3])
end
local moved = int(redis.call('HGET', KEYS[1], 'q:' .. from)) + int(redis.call('HGET', KEYS[1], 'f:' .. from))
if moved > 0 then add(KEYS[1], 'q:' .. to, moved) end
local sealed = redis.call('HGET', KEYS[1], 's:' .. from)
if sealed and redis.call('HEXISTS', KEYS[1], 's:' .. to) == 0 then redis.call('HSET', KEYS[1], 's:' .. to, sealed) end
redis.call('HDEL', KEYS[1], 'r:' .. from, 'q:' .. from, 'f:' .. from, 'b:' .. from, 's:' .. from)
return moved
`

/** KEYS: the owner's index. ARGV: key. Reply 1. */
export const INDEX_KEY = `
redis.call('SADD', KEYS[1], ARGV[1])
return 1
`

/** KEYS: the owner's index. Reply: its keys. */
export const OWNER_KEYS = `
return redis.call('SMEMBERS', KEYS[1])
`

/** KEYS: the owners. ARGV: owner, lease ms. Reply 1. */
export const RENEW_OWNER = `${NOW}
redis.call('ZADD', KEYS[1], string.format('%d', now_ms() + tonumber(ARGV[2])), ARGV[1])
return 1
`

/**
 * KEYS: the owners. ARGV: lease ms. Claims one owner whose lease lapsed: its lease is renewed
 * for the claimant (who settles its records; if the claimant dies too, it lapses again).
 * Reply: {owner}, or {} when none lapsed.
 */
export const CLAIM_OWNER = `${NOW}
local now = now_ms()
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now), 'LIMIT', 0, 1)
if #dead == 0 then return {} end
redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[1])), dead[1])
return dead
`

/** KEYS: the owners. ARGV: owner. Reply 1. */
export const FORGET_OWNER = `
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`

/** KEYS: the owner's index. Reply 1. */
export const DROP_INDEX = `
redis.call('DEL', KEYS[1])
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
