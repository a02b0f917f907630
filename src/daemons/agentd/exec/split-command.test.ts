import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../../../lib/errors.js'
import {quoteArgv, splitCommand} from './split-command.js'

const codeAndHint = (command: string): {code: string; hint: string | undefined} => {
  try {
    splitCommand(command)
  } catch (error) {
    return {code: (error as OsmodaError).code, hint: (error as OsmodaError).hint}
  }
  return {code: 'NO_ERROR', hint: undefined}
}

describe('splitCommand', () => {
  it.each([
    {command: 'df -h /', argv: ['df', '-h', '/']},
    {command: '  ls\t-la   /etc  ', argv: ['ls', '-la', '/etc']},
    {command: `grep 'a b|c;d' /x`, argv: ['grep', 'a b|c;d', '/x']},
    {command: `echo "a 'b' c"`, argv: ['echo', "a 'b' c"]},
    {command: `echo "say \\"hi\\" \\\\ \\$HOME \\x"`, argv: ['echo', 'say "hi" \\ $HOME \\x']},
    {command: `echo a\\ b c\\;d`, argv: ['echo', 'a b', 'c;d']},
    {command: `echo ab''cd "" ''`, argv: ['echo', 'abcd', '', '']},
    {command: `awk '{print $1}' /etc/passwd`, argv: ['awk', '{print $1}', '/etc/passwd']},
    {command: 'ls *.log ~ ?', argv: ['ls', '*.log', '~', '?']},
    {command: 'echo cost$ 5$', argv: ['echo', 'cost$', '5$']},
    {command: 'echo a\\\nb', argv: ['echo', 'ab']},
    {command: `printf '%s\n' "multi\nline"`, argv: ['printf', '%s\n', 'multi\nline']},
    {command: 'echo a#b', argv: ['echo', 'a#b']},
    {command: 'ｒｍ －ｒｆ ／', argv: ['ｒｍ', '－ｒｆ', '／']},
  ])('splits $command', ({command, argv}) => {
    // When a command without shell syntax is split / Then the words are what a POSIX shell would pass
    expect(splitCommand(command)).toEqual(argv)
  })

  it.each([
    'ls | wc -l',
    'true; rm -rf /',
    'true && touch x',
    'false || touch x',
    'sleep 1 &',
    'cat < /etc/passwd',
    'echo x > /etc/motd',
    'echo x >> /etc/motd',
    'echo $(id)',
    'echo `id`',
    'echo "$(id)"',
    'echo "`id`"',
    'echo $HOME',
    'echo ${HOME}',
    'echo "$PATH"',
    'echo $?',
    'cat <(id)',
    '(id)',
    'true\nrm -rf /',
    'ls # comment',
  ])('refuses shell syntax: %j', (command) => {
    // When a command with shell syntax is split / Then 400 with the hint to use shell: true or argv
    const {code, hint} = codeAndHint(command)
    expect(code).toBe('VALIDATION_FAILED')
    expect(hint).toMatch(/shell: true.*argv/)
  })

  it.each([
    {name: 'unterminated single quote', command: "echo 'abc"},
    {name: 'unterminated double quote', command: 'echo "abc'},
    {name: 'lone backslash', command: 'echo abc\\'},
    {name: 'NUL byte', command: 'touch /tmp/a\0b'},
    {name: 'NUL byte in quotes', command: 'touch "/tmp/a\0b"'},
    {name: 'empty', command: '   '},
    {name: 'empty program', command: "'' -x"},
    {name: 'too many words', command: `echo ${'a '.repeat(256)}`},
  ])('refuses $name', ({command}) => {
    expect(codeAndHint(command).code).toBe('VALIDATION_FAILED')
  })

  it('accepts exactly 256 words', () => {
    expect(splitCommand(`echo ${'a '.repeat(255)}`)).toHaveLength(256)
  })
})

describe('quoteArgv', () => {
  it('round-trips through splitCommand', () => {
    // Given argv with blanks, quotes and operators
    const argv = ['printf', "it's a | b; $(c)", '', 'plain-word', 'a\\b']
    // When quoted and split again / Then the same words come back
    expect(splitCommand(quoteArgv(argv))).toEqual(argv)
  })
})
