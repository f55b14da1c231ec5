#!/bin/sh
# A stand-in for an AI coding agent, as Maestro starts one: it reads its prompt (from
# MAESTRO_PROMPT_FILE and from its argument), reports progress with the `maestro` CLI it
# finds on its PATH, waits for the person (a line of input, which it repeats), finishes and exits with
# FAKE_AGENT_EXIT (0 by default).
set -eu
printf 'prompt file: %s\n' "$(cat "$MAESTRO_PROMPT_FILE")"
printf 'prompt argument: %s\n' "${1-}"
maestro task update --status in_progress >/dev/null
printf 'fake agent: working; press Enter to finish\n'
read -r answer
printf 'fake agent: heard: %s\n' "$answer"
maestro task update --status completed >/dev/null
printf 'fake agent: done\n'
exit "${FAKE_AGENT_EXIT:-0}"
