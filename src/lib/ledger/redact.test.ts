import {describe, expect, it} from 'vitest'
import {REDACTED, isSecretName, redactPayload} from './redact.js'

describe('redactPayload', () => {
  it('replaces secret-named members at any depth and keeps *_id, *_sha256, *_bytes, *_count', () => {
    // Given a payload with secrets nested in objects and arrays, and harmless look-alikes
    const payload = {
      api_key: 'sk-live-1',
      Authorization: 'Bearer x',
      config: {db_password: 'hunter2', nested: [{refresh_token: 't', mnemonic: {words: 'abandon'}}]},
      token_id: 'tok_123',
      secret_sha256: 'ab'.repeat(32),
      private_key_bytes: 32,
      token_count: 3,
      user: 'alice',
    }
    // When redacted
    const out = redactPayload(payload)
    // Then every secret value, whatever its type, is the placeholder and the rest is untouched
    expect(out).toEqual({
      api_key: REDACTED,
      Authorization: REDACTED,
      config: {db_password: REDACTED, nested: [{refresh_token: REDACTED, mnemonic: REDACTED}]},
      token_id: 'tok_123',
      secret_sha256: 'ab'.repeat(32),
      private_key_bytes: 32,
      token_count: 3,
      user: 'alice',
    })
    // And the input is not modified
    expect(payload.api_key).toBe('sk-live-1')
    expect(payload.config.db_password).toBe('hunter2')
  })

  it('redacts the value after a secret flag and the inline value of --flag=value in argv', () => {
    // Given argv lists with secrets in both flag forms and an env-style assignment
    const payload = {
      argv: ['mysql', '--user', 'root', '--password', 'hunter2', '--host', 'db', '--api-key=abc', '-token', 't1', 'PGPASSWORD=pw', 'plain=ok'],
      cmd: {args: ['deploy', '--secret', 's', '--verbose']},
    }
    // When redacted
    const out = redactPayload(payload)
    // Then only the secret values are replaced, flags and other arguments stay
    expect(out.argv).toEqual(['mysql', '--user', 'root', '--password', REDACTED, '--host', 'db', `--api-key=${REDACTED}`, '-token', REDACTED, `PGPASSWORD=${REDACTED}`, 'plain=ok'])
    expect(out.cmd.args).toEqual(['deploy', '--secret', REDACTED, '--verbose'])
  })

  it('leaves non-secret flags and a trailing secret flag without value alone', () => {
    expect(redactPayload({argv: ['ls', '-la', '--password']})).toEqual({argv: ['ls', '-la', '--password']})
    expect(redactPayload({argv: ['--token-id', 'tok_1', '--passwd', 'x']})).toEqual({argv: ['--token-id', 'tok_1', '--passwd', REDACTED]})
  })

  it.each([
    ['password', true],
    ['PASSWD', true],
    ['client_secret', true],
    ['api-key', true],
    ['private_key', true],
    ['x-authorization', true],
    ['token_id', false],
    ['secret_sha256', false],
    ['password_bytes', false],
    ['token_count', false],
    ['username', false],
  ])('isSecretName(%s) is %s', (name, want) => {
    expect(isSecretName(name)).toBe(want)
  })
})
