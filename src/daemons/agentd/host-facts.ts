import {existsSync} from 'node:fs'
import {cpus, hostname} from 'node:os'
import {which} from '../../lib/exec/which.js'
import {createCpuSampler, readDisks, readLoadAverage, readMemory, readUptime} from './system/host.js'
import type {HostFacts} from './service.js'

/** The live host facts of GET /health, read from /proc and statfs; the CPU sampler runs every 5 s. */
export function createHostFacts(): HostFacts & {start(signal: AbortSignal): void} {
  const sampler = createCpuSampler({intervalMs: 5000})
  // Tool availability only changes with a rebuild of the system, so it is looked up once.
  let tools: Promise<{bwrap: string | null; nix: boolean}> | null = null
  const lookupTools = async () => ({bwrap: await which('bwrap'), nix: existsSync('/nix/var/nix/profiles') || (await which('nix-env')) !== null})

  return {
    start: (signal) => sampler.start(signal),
    async health() {
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
    },
  }
}
