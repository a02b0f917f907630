import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The ledger sources a child process runs, with the compiled file each becomes. */
function ledgerSources(): {src: string; out: string}[] {
  const dir = join(ROOT, 'src', 'lib', 'ledger')
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join('lib', 'ledger', f))
  return [...files, join('lib', 'db', 'open.ts'), join('lib', 'errors.ts')].map((rel) => ({
    src: join(ROOT, 'src', rel),
    out: join(ROOT, 'dist', rel.replace(/\.ts$/, '.js')),
  }))
}

const isFresh = () => ledgerSources().every(({src, out}) => existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs)

/**
 * Child processes run the compiled ledger from dist/ (Node cannot import .ts). Builds it when it is
 * missing or older than its sources. tsc exits non-zero on type errors anywhere in src/ but still
 * emits, so success is judged by the ledger files being fresh, not by the exit code.
 */
export function ensureLedgerBuild(): string {
  if (!isFresh()) {
    let output = ''
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {cwd: ROOT, stdio: 'pipe'})
    } catch (error) {
      output = String((error as {stdout?: Buffer}).stdout ?? error)
    }
    if (!isFresh()) throw new Error(`could not build dist/lib/ledger:\n${output}`)
  }
  return join(ROOT, 'dist', 'lib', 'ledger', 'ledger.js')
}

/** The child fixture that appends to a ledger: `node ledger-appender.js DB COUNT|forever ACTOR`. */
export const APPENDER = join(ROOT, 'test', 'fixtures', 'ledger-appender.js')
