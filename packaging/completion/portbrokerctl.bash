# bash completion for portbrokerctl

_portbrokerctl() {
    local cur prev words cword
    _init_completion || return

    local commands="status check reload conns metrics"
    case "$prev" in
        --run-dir)
            _filedir -d
            return
            ;;
        --config)
            _filedir json
            return
            ;;
    esac

    local command="" word
    for word in "${words[@]:1:cword-1}"; do
        case "$word" in
            status|check|reload|conns|metrics) command="$word" ;;
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
        check) _filedir -d ;;
        conns)
            # Handler names from the running broker, if it answers.
            local names
            names=$(portbrokerctl status --json 2>/dev/null | sed -n 's/^ *"name": "\([^"]*\)",*$/\1/p')
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
            ;;
    esac
} &&
    complete -F _portbrokerctl portbrokerctl
