// `npm run bench`: one JSON line per figure on stdout; the whole run is kept in bench/results/.
import {mkdirSync, writeFileSync} from 'node:fs'
import {benchBackup} from './backup.js'
import {benchDaemon} from './daemon.js'
import {benchLedger} from './ledger.js'
import {benchMemory} from './memory.js'
import {benchSwitch} from './switch.js'
import {results} from './lib.js'
import {benchRoutines} from './routines.js'
import {benchGateway} from './gateway.js'

await benchLedger()
await benchDaemon()
await benchBackup()
await benchMemory()
await benchSwitch()
await benchRoutines()
await benchGateway()
const dir = new URL('./results/', import.meta.url)
mkdirSync(dir, {recursive: true})
writeFileSync(new URL(`bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, dir), `${JSON.stringify(results, null, 2)}\n`)
