#!/usr/bin/env node
// Entry point of the `osmoda` executable. The compile cache (Node >= 22.1) is enabled before
// anything heavy is imported, so repeated CLI calls skip recompiling our modules.
import * as nodeModule from 'node:module'

nodeModule.enableCompileCache?.()

// `osmoda daemon <name>` is what systemd runs: a plain invocation skips oclif entirely. Anything
// else (help, bad flags) goes through oclif for the usual help and usage errors.
let handled = false
if (process.argv[2] === 'daemon') {
  const {parseDaemonArgs, runDaemonEntry} = await import('../dist/lib/daemon/entry.js')
  const args = parseDaemonArgs(process.argv.slice(3))
  if (args) {
    process.exitCode = await runDaemonEntry(args)
    handled = true
  }
}
if (!handled) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
