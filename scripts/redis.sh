# shellcheck shell=bash
# redis.sh is sourced by dev.sh and test.sh: redis_answers reports whether
# a Redis answers PING on 127.0.0.1:6379, with redis-cli when there is one
# and through bash's /dev/tcp otherwise.

redis_answers() {
	if command -v redis-cli >/dev/null; then
		local reply
		if command -v timeout >/dev/null; then
			reply=$(timeout 3 redis-cli -h 127.0.0.1 -p 6379 ping 2>&1)
		else
			reply=$(redis-cli -h 127.0.0.1 -p 6379 ping 2>&1)
		fi
		[[ $reply == PONG ]]
		return
	fi
	(
		exec 3<>/dev/tcp/127.0.0.1/6379 || exit 1
		printf 'PING\r\n' >&3
		read -r -t 3 reply <&3 && [[ $reply == +PONG* ]]
	) 2>/dev/null
}
