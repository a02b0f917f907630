import {constants} from 'node:fs'
import {access, stat} from 'node:fs/promises'
import {isAbsolute, join} from 'node:path'

/**
 * The absolute path of `binary` found on `path` (default: this process's PATH), or null. Only
 * absolute PATH entries are searched: an empty or relative entry would make the lookup depend on
 * the daemon's working directory, which is how PATH hijacks happen. A name containing a slash is
 * checked as given.
 */
export async function which(binary: string, options: {path?: string} = {}): Promise<string | null> {
  if (binary === '') return null
  if (binary.includes('/')) return (await isExecutableFile(binary)) ? binary : null
  const searchPath = options.path ?? process.env.PATH ?? ''
  for (const dir of searchPath.split(':')) {
    if (!isAbsolute(dir)) continue
    const candidate = join(dir, binary)
    if (await isExecutableFile(candidate)) return candidate
  }
  return null
}

/** True when `file` is a regular file (following symlinks) this process may execute. */
async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const info = await stat(file)
    if (!info.isFile()) return false
    await access(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
