import {execFileSync} from 'node:child_process'
import {existsSync, statSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path))
    else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** Integration tests run the built CLI: build it when dist/ is missing or older than src/. */
export default function setup(): void {
  const marker = join(ROOT, 'dist', 'commands', 'init.js')
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(join(ROOT, 'src'))) return
  execFileSync('npm', ['run', 'build'], {cwd: ROOT, stdio: 'inherit'})
}
