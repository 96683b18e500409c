# shellcheck shell=bash
#
# Shared by the benchmark scripts: messages, polling, the injector's
# timestamps, and the EXIT cleanup of what a run started (the scripts
# fill _PIDS and _NAMESPACES and set TMP, BENCH_POLL, KEEP_TMP).

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

note()
{
	printf '# %s\n' "$*" >&2
}

cleanup()
{
	local pid ns
	for pid in "${_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.3
	for pid in "${_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		note "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}

now()
{
	date +%s.%N
}

wait_until()
{
	local deadline
	deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		(($(date +%s) >= deadline)) && return 1
		sleep "$BENCH_POLL"
	done
}

injector_time()
{
	jq -r --arg e "$2" 'select(.event == $e) | .t' "$1" 2>/dev/null |
	    head -1 | grep .
}
