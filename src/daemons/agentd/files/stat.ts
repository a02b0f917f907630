import {lstatSync, type Stats} from 'node:fs'

/** lstat, or null when the path (or a directory on it) does not exist. */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw error
  }
}

/** Permission bits as 4-digit octal, e.g. "0644". */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}
