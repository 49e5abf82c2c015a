#!/usr/bin/env bash
# dburl.sh rewrites parts of a postgres:// URL, in plain bash.
#
#   dburl.sh db NAME URL     the URL pointing at database NAME
#   dburl.sh user NAME URL   the URL logging in as NAME, without a password
#
# Sourced, it defines dburl_with_db and dburl_with_user with the same
# arguments (NAME URL). Only URLs are understood, not "host=... user=..."
# strings; as in any URL, reserved characters in a password must be
# percent-encoded. user, password and dbname query parameters, which libpq
# and pgx would let override the URL, are dropped where they would.

# dburl_split sets the globals _scheme, _userinfo, _hosts, _path and _query
# (with its leading "?", or empty) from a URL.
dburl_split() {
	local url=$1 rest
	case $url in
	postgres://* | postgresql://*) ;;
	*)
		printf 'dburl.sh: not a postgres:// URL\n' >&2
		return 1
		;;
	esac
	_scheme=${url%%://*}
	rest=${url#*://}

	_query=
	if [[ $rest == *\?* ]]; then
		_query="?${rest#*\?}"
		rest=${rest%%\?*}
	fi
	_path=
	if [[ $rest == */* ]]; then
		_path=${rest#*/}
		rest=${rest%%/*}
	fi
	_userinfo=
	if [[ $rest == *@* ]]; then
		_userinfo=${rest%@*}
		rest=${rest##*@}
	fi
	_hosts=$rest
}

# dburl_drop_params prints the query string without the named parameters.
dburl_drop_params() {
	local out='' param name drop d params=()
	IFS='&' read -ra params <<<"${1#\?}"
	shift
	for param in "${params[@]}"; do
		name=${param%%=*}
		drop=
		for d in "$@"; do
			[[ $name == "$d" ]] && drop=1
		done
		[[ -n $drop || -z $param ]] && continue
		out+=${out:+&}$param
	done
	printf '%s' "${out:+?$out}"
}

dburl_with_db() {
	local name=$1 _scheme _userinfo _hosts _path _query
	dburl_split "$2" || return
	_query=$(dburl_drop_params "$_query" dbname)
	printf '%s://%s%s/%s%s\n' "$_scheme" "${_userinfo:+$_userinfo@}" \
		"$_hosts" "$name" "$_query"
}

dburl_with_user() {
	local name=$1 _scheme _userinfo _hosts _path _query
	dburl_split "$2" || return
	_query=$(dburl_drop_params "$_query" user password)
	printf '%s://%s@%s%s%s\n' "$_scheme" "$name" "$_hosts" \
		"${_path:+/$_path}" "$_query"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	if (($# != 3)); then
		printf 'usage: dburl.sh db|user NAME URL\n' >&2
		exit 2
	fi
	case $1 in
	db) dburl_with_db "$2" "$3" ;;
	user) dburl_with_user "$2" "$3" ;;
	*)
		printf 'usage: dburl.sh db|user NAME URL\n' >&2
		exit 2
		;;
	esac
fi
