import {readFileSync} from 'node:fs'

/** osmoda's version, from package.json (the same relative path from src/lib and dist/lib). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version
