// oclif writes commands in the order it finds them on disk, which differs between machines and
// runs; sorting them keeps the committed oclif.manifest.json stable across builds.
import {readFileSync, writeFileSync} from 'node:fs'

const path = new URL('../oclif.manifest.json', import.meta.url)
const manifest = JSON.parse(readFileSync(path, 'utf8'))
manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
