import {readFileSync, statSync, unlinkSync} from 'node:fs'
import {dirname} from 'node:path'
import {fsyncDir, writeFileAtomic} from '../../lib/secure-file.js'

/** A file as it was before an edit: its content and mode, or null when it did not exist. */
export interface EditOriginal {
  path: string
  content: string | null
  mode: number | null
}

/**
 * Writes each edit atomically and returns the originals to restore. The originals are handed to
 * `keep` before each write, so a crash mid-way still leaves every touched file restorable.
 */
export function applyEdits(edits: readonly {path: string; content: string}[], keep: (originals: EditOriginal[]) => void): EditOriginal[] {
  const originals: EditOriginal[] = []
  for (const edit of edits) {
    if (!originals.some((o) => o.path === edit.path)) {
      const info = statSync(edit.path, {throwIfNoEntry: false})
      originals.push({path: edit.path, content: info ? readFileSync(edit.path, 'utf8') : null, mode: info ? info.mode & 0o7777 : null})
      keep(originals)
    }
    const mode = originals.find((o) => o.path === edit.path)?.mode ?? 0o644
    writeFileAtomic(edit.path, edit.content, mode)
  }
  return originals
}

/** Puts every edited file back as it was (removing files the edits created), last edit first. */
export function restoreEdits(originals: readonly EditOriginal[]): void {
  for (const original of [...originals].reverse()) {
    if (original.content === null) {
      try {
        unlinkSync(original.path)
        fsyncDir(dirname(original.path))
      } catch {
        // Already gone.
      }
    } else {
      writeFileAtomic(original.path, original.content, original.mode ?? 0o644)
    }
  }
}
