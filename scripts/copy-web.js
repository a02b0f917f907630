// tsc compiles only TypeScript; the gateway's web page (plain HTML, ES modules, CSS, no build
// step of its own) is copied next to the compiled gateway so dist/ serves the same files.
import {copyFileSync, mkdirSync, readdirSync} from 'node:fs'

const from = new URL('../src/daemons/gateway/web/', import.meta.url)
const to = new URL('../dist/daemons/gateway/web/', import.meta.url)
mkdirSync(to, {recursive: true})
for (const name of readdirSync(from)) {
  if (/\.(html|css)$/.test(name) || (name.endsWith('.js') && !name.endsWith('.test.js'))) copyFileSync(new URL(name, from), new URL(name, to))
}
