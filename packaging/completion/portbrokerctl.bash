# bash completion for portbrokerctl (works with or without the bash-completion package)

_portbrokerctl() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD-1]}
    local commands="status check reload conns metrics ca"

    case "$prev" in
        --run-dir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        --config)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
    esac

    local command="" run_dir=() i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            status|check|reload|conns|metrics|ca) [[ -z "$command" ]] && command="${COMP_WORDS[i]}" ;;
            --run-dir) run_dir=(--run-dir "${COMP_WORDS[i+1]}") ;;
        esac
    done

    if [[ "$cur" == -* ]]; then
        case "$command" in
            status|conns) COMPREPLY=($(compgen -W "--json --run-dir --help" -- "$cur")) ;;
            check) COMPREPLY=($(compgen -W "--json --config --help" -- "$cur")) ;;
            *) COMPREPLY=($(compgen -W "--run-dir --help" -- "$cur")) ;;
        esac
        return
    fi
    case "$command" in
        "") COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
        check) COMPREPLY=($(compgen -d -- "$cur")) ;;
        conns)
            # Handler names from the running broker, if it answers.
            local names
            names=$(portbrokerctl "${run_dir[@]}" status 2>/dev/null |
                awk '/^HANDLER /{table=1; next} table && /^$/{table=0} table{print $1}')
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
            ;;
    esac
}
complete -o filenames -F _portbrokerctl portbrokerctl
