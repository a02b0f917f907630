import {existsSync} from 'node:fs'
import {cpus, hostname} from 'node:os'
import {which} from '../../lib/exec/which.js'
import {createCpuSampler, readDisks, readLoadAverage, readMemory, readUptime} from './system/host.js'
import type {HostFacts} from './service.js'

/** How long one reading of /proc and statfs serves GET /health (the CPU figure is a 5 s sample anyway). */
const FACTS_TTL_MS = 1000

/**
 * The host facts of GET /health, read from /proc and statfs at most once a second: a TUI or an
 * agent polling health costs one reading, not one per request. The CPU sampler runs every 5 s.
 */
export function createHostFacts(now: () => number = Date.now): HostFacts & {start(signal: AbortSignal): void} {
  const sampler = createCpuSampler({intervalMs: 5000})
  // Tool availability only changes with a rebuild of the system, so it is looked up once.
  let tools: Promise<{bwrap: string | null; nix: boolean}> | null = null
  const lookupTools = async () => ({bwrap: await which('bwrap'), nix: existsSync('/nix/var/nix/profiles') || (await which('nix-env')) !== null})

  let cached: {at: number; facts: ReturnType<HostFacts['health']>} | null = null

  const read: HostFacts['health'] = async () => {
    tools ??= lookupTools()
    const [memory, load, uptime, disks, found] = await Promise.all([readMemory(), readLoadAverage(), readUptime(), readDisks(), tools])
    return {
      hostname: hostname(),
      cpu_count: cpus().length,
      cpu_usage: sampler.current(),
      ...memory,
      load_average: load,
      uptime: uptime.uptime_secs,
      disks: disks.map(({mount_point, filesystem, total, used, available}) => ({mount_point, filesystem, total, used, available})),
      sandbox: found.bwrap ? {available: true, reason: null} : {available: false, reason: 'bubblewrap (bwrap) is not installed'},
      nix: {available: found.nix},
    }
  }

  return {
    start: (signal) => sampler.start(signal),
    health() {
      if (!cached || now() - cached.at >= FACTS_TTL_MS) {
        const facts = read()
        cached = {at: now(), facts}
        // A failed reading is not served again.
        facts.catch(() => (cached = null))
      }
      return cached.facts
    },
  }
}
