import {Command, Flags} from '@oclif/core'
import {OsmodaError, UsageError, toOsmodaError} from '../errors.js'
import {resolvePaths, type OsmodaPaths} from '../paths.js'
import {createClient, type RpcClient} from '../rpc/client.js'
import type {Api} from '../rpc/route.js'
import {resolveToken} from '../tokens.js'
import {formatError} from './format-error.js'
import {renderTable} from './table.js'

/**
 * The base of every osmoda command: `--json` (`{status, result, warnings}` on stdout), `--verbose`,
 * typed daemon clients, and one place that turns errors into messages and exit codes
 * (ARCHITECTURE §7). Commands only parse, call, render and return their result.
 */
export abstract class OsmodaCommand<T> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    verbose: Flags.boolean({description: 'Print more detail to stderr.', helpGroup: 'GLOBAL'}),
  }

  private readonly clients: {close(): void}[] = []
  private readonly warnings: string[] = []
  private cachedPaths?: OsmodaPaths

  abstract override run(): Promise<T>

  /** The osmoda directories for this user (SPEC §1.1). */
  protected get paths(): OsmodaPaths {
    this.cachedPaths ??= resolvePaths()
    return this.cachedPaths
  }

  /** A typed client of a daemon, authenticated with the caller's token (SPEC §1.4). */
  protected client<A extends Api>(daemon: string, api: A): RpcClient<A> {
    const headers: Record<string, string> = {}
    const user = process.env.SUDO_USER ?? process.env.USER
    if (user && /^[a-z_][a-z0-9_-]{0,31}$/.test(user)) headers['x-osmoda-operator'] = user
    const client = createClient(daemon, api, {socketPath: this.paths.socket(daemon), token: resolveToken(this.paths), headers})
    this.clients.push(client)
    return client
  }

  /** Prints a table to stdout for humans; silent under --json. */
  protected table<R extends object>(rows: readonly R[], columns: readonly (keyof R & string)[]): void {
    if (!this.jsonEnabled()) this.log(renderTable(rows, columns))
  }

  /** Prints a line for humans on stdout; silent under --json. */
  protected say(line: string): void {
    if (!this.jsonEnabled()) this.log(line)
  }

  /** Prints progress or notes to stderr (never stdout, which carries results). */
  protected note(line: string): void {
    process.stderr.write(`${line}\n`)
  }

  /** A warning: on stderr for humans, in `warnings` under --json. */
  override warn(input: string | Error): string | Error {
    const text = typeof input === 'string' ? input : input.message
    this.warnings.push(text)
    if (!this.jsonEnabled()) process.stderr.write(`Warning: ${text}\n`)
    return input
  }

  protected override toSuccessJson(result: unknown): unknown {
    return {status: 0, result, warnings: this.warnings}
  }

  protected override toErrorJson(err: unknown): unknown {
    const error = asOsmodaError(err)
    return {status: error.exitCode, ...error.toEnvelope(), warnings: this.warnings}
  }

  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<void> {
    const error = asOsmodaError(err)
    process.exitCode = error.exitCode
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(error))
      return
    }
    process.stderr.write(formatError(error))
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    for (const client of this.clients) client.close()
    await super.finally(err)
  }
}

/** oclif's parse errors carry `oclif.exit` (2 = usage); everything else maps through the hierarchy. */
function asOsmodaError(err: unknown): OsmodaError {
  if (err instanceof OsmodaError) return err
  const oclif = (err as {oclif?: {exit?: number}} | null)?.oclif
  if (oclif && typeof oclif.exit === 'number' && err instanceof Error) {
    if (oclif.exit === 0) return new OsmodaError('OK', err.message, {exitCode: 0})
    return new UsageError(err.message.replace(/\n\s*See more help with --help$/, ''), {code: 'USAGE', hint: 'see --help'})
  }
  return toOsmodaError(err)
}
