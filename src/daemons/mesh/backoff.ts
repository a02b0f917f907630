/** Reconnect schedule of SPEC §2.5 `reconnect`. */
export interface ReconnectPolicy {
  initialSecs: number
  factor: number
  maxSecs: number
  jitter: number
  resetAfterSecs: number
}

/**
 * Delay before dial attempt `attempt` (0 = first retry): `min(initial × factor^attempt, max)`,
 * spread by ±jitter so peers that lost each other at once do not redial in lockstep.
 */
export function reconnectDelayMs(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.initialSecs * policy.factor ** Math.max(0, attempt), policy.maxSecs)
  const spread = 1 + policy.jitter * (2 * random() - 1)
  return Math.max(0, Math.round(base * spread * 1000))
}

/**
 * Per-IP token bucket (`perIpPerMinute` handshakes, refilled continuously); buckets that refilled
 * completely are pruned so the map cannot grow without bound.
 */
export function createIpRateLimiter(perMinute: () => number, now: () => number = Date.now) {
  const buckets = new Map<string, {tokens: number; at: number}>()
  const refill = (bucket: {tokens: number; at: number}, t: number, cap: number) => {
    bucket.tokens = Math.min(cap, bucket.tokens + ((t - bucket.at) / 60_000) * cap)
    bucket.at = t
  }
  return {
    /** Takes one token for `ip`; false when its bucket is empty. */
    take(ip: string): boolean {
      const t = now()
      const cap = perMinute()
      let bucket = buckets.get(ip)
      if (!bucket) {
        if (buckets.size >= 10_000) this.prune()
        bucket = {tokens: cap, at: t}
        buckets.set(ip, bucket)
      }
      refill(bucket, t, cap)
      if (bucket.tokens < 1) return false
      bucket.tokens -= 1
      return true
    },
    /** Drops full buckets. */
    prune(): void {
      const t = now()
      const cap = perMinute()
      for (const [ip, bucket] of buckets) {
        refill(bucket, t, cap)
        if (bucket.tokens >= cap) buckets.delete(ip)
      }
    },
    size: () => buckets.size,
  }
}

/** Lets one event per key through per window (`mesh.handshake_rejected` at most once per IP per minute). */
export function createOncePerWindow(windowMs: number, now: () => number = Date.now) {
  const last = new Map<string, number>()
  return (key: string): boolean => {
    const t = now()
    if (last.size >= 10_000) for (const [k, at] of last) if (t - at >= windowMs) last.delete(k)
    const previous = last.get(key)
    if (previous !== undefined && t - previous < windowMs) return false
    last.set(key, t)
    return true
  }
}
