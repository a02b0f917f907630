/** How a doctor check came out: ok, worth a look (warn), or broken (fail). */
export type CheckStatus = 'ok' | 'warn' | 'fail'

/** One line of `osmoda doctor`: what was checked, how it went, and what to do about it. */
export interface DoctorCheck {
  name: string
  status: CheckStatus
  detail: string
  /** What to run or change; null when the check is ok. */
  fix: string | null
}

/** A passing check. */
export function ok(name: string, detail: string): DoctorCheck {
  return {name, status: 'ok', detail, fix: null}
}

/** A check that works but deserves attention. */
export function warn(name: string, detail: string, fix: string): DoctorCheck {
  return {name, status: 'warn', detail, fix}
}

/** A broken prerequisite. */
export function fail(name: string, detail: string, fix: string): DoctorCheck {
  return {name, status: 'fail', detail, fix}
}

/** `0o640` as "0640". */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}
