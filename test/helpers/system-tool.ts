import {execFileSync} from 'node:child_process'

/**
 * Whether a system tool a test needs is present. Without it the test is skipped with a visible
 * reason on a developer machine, but under CI=true a missing tool is an error: `.ci/run` installs
 * every tool the suite needs, so its absence there means the install step is broken.
 */
export function requireTool(tool: string, install: string): {skip: false} | {skip: true; reason: string} {
  let present = false
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], {stdio: 'ignore'})
    present = true
  } catch {
    present = false
  }
  if (present) return {skip: false}
  if (process.env.CI === 'true') throw new Error(`${tool} is required under CI=true (${install})`)
  const reason = `${tool} is not installed (${install}); skipping`
  console.warn(reason)
  return {skip: true, reason}
}
