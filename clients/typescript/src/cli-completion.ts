import type { Command } from 'commander'

const words = (names: readonly string[]) => names.join(' ')
const optionsOf = (command: Command) =>
  command.options.flatMap((option) => [option.long, option.short]).filter(Boolean) as string[]

/**
 * A bash completion script for the program as built (commands, subcommands and their options),
 * so it never falls behind the CLI. zsh loads it through `bashcompinit`.
 */
export function bashCompletion(program: Command, shell: 'bash' | 'zsh'): string {
  const name = program.name()
  const fn = `_${name.replace(/\W/g, '_')}`
  const top = program.commands.map((command) => command.name())
  const cases = program.commands.map((command) => {
    const subs = command.commands.map((sub) => sub.name())
    const subCases = command.commands
      .map((sub) => `        ${sub.name()}) opts="${words(optionsOf(sub))}" ;;`)
      .join('\n')
    return [
      `    ${command.name()})`,
      `      subs="${words(subs)}"; opts="${words(optionsOf(command))}"`,
      subs.length > 0 ? `      case "$sub" in\n${subCases}\n      esac` : '',
      '      ;;',
    ]
      .filter(Boolean)
      .join('\n')
  })
  return `${shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}# ${name} completion: eval "$(${name} completion ${shell})"
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" sub="" subs="" opts="" word
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) ;; *) if [ -z "$cmd" ]; then cmd="$word"; elif [ -z "$sub" ]; then sub="$word"; fi ;; esac
  done
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "${words(top)} ${words(optionsOf(program))}" -- "$cur")); return ;;
${cases.join('\n')}
  esac
  if [ -z "$sub" ] && [ -n "$subs" ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  fi
}
complete -F ${fn} ${name}
`
}
