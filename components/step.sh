
# ------------------------------------------------------------------------
# The rest is the same in every generated step worker.

# fail ends the step with a reason for the report (see the worker wrapper's
# JOBCTL_REPORT_REASON).
fail() {
	printf '%s\n' "$1" >"${JOBCTL_REPORT_REASON:-/dev/null}"
	printf 'error: %s\n' "$1" >&2
	exit 1
}

# version_of prints the first version-looking token tool $1 prints for
# --version ("v8.12.0" is 8.12.0, "ruby 2.6.3p62" is 2.6.3).
version_of() {
	local out
	out=$(timeout 30 "$1" --version 2>&1 </dev/null) || true
	[[ $out =~ [0-9]+(\.[0-9]+)* ]] && printf '%s' "${BASH_REMATCH[0]}"
}

# vercmp sets cmp to -1, 0 or 1 as dotted version $1 is older than, the
# same as or newer than $2; missing segments count as 0.
vercmp() {
	local -a a b
	local i n x y
	IFS=. read -ra a <<<"$1"
	IFS=. read -ra b <<<"$2"
	n=$((${#a[@]} > ${#b[@]} ? ${#a[@]} : ${#b[@]}))
	for ((i = 0; i < n; i++)); do
		x=$((10#${a[i]:-0})) y=$((10#${b[i]:-0}))
		((x < y)) && cmp=-1 && return
		((x > y)) && cmp=1 && return
	done
	cmp=0
}

# holds reports whether version $1 passes the checks $2 ("op version ...").
holds() {
	local -a c
	local i
	read -ra c <<<"$2"
	for ((i = 0; i + 1 < ${#c[@]}; i += 2)); do
		vercmp "$1" "${c[i + 1]}"
		case ${c[i]} in
		'=') ((cmp == 0)) ;;
		'!=') ((cmp != 0)) ;;
		'>') ((cmp > 0)) ;;
		'<') ((cmp < 0)) ;;
		'>=') ((cmp >= 0)) ;;
		'<=') ((cmp <= 0)) ;;
		*) false ;;
		esac || return 1
	done
}

# manager_load loads the version manager for tool $1, when one is
# installed: nvm for node, rvm for ruby. It sets manager and lists the
# versions it has installed in have.
manager_load() {
	local f v
	manager='' have=()
	case $1 in
	node)
		f=${NVM_DIR:-$HOME/.nvm}/nvm.sh
		[[ -s $f ]] || return 0
		export NVM_DIR=${NVM_DIR:-$HOME/.nvm}
		set +u
		# shellcheck disable=SC1090
		source "$f" --no-use >/dev/null 2>&1
		set -u
		command -v nvm >/dev/null 2>&1 || return 0
		manager=nvm
		for v in "$NVM_DIR"/versions/node/v*; do
			[[ -d $v ]] && have+=("${v##*/v}")
		done
		((${#have[@]})) && mapfile -t have < <(printf '%s\n' "${have[@]}" | sort -V)
		;;
	ruby)
		for f in "${rvm_path:-$HOME/.rvm}/scripts/rvm" /usr/local/rvm/scripts/rvm; do
			[[ -s $f ]] || continue
			set +u
			# shellcheck disable=SC1090
			source "$f" >/dev/null 2>&1
			set -u
			command -v rvm >/dev/null 2>&1 || return 0
			manager=rvm
			while read -r v; do
				[[ $v =~ ^ruby-([0-9]+(\.[0-9]+)*)$ ]] && have+=("${BASH_REMATCH[1]}")
			done < <(set +u; rvm list strings 2>/dev/null)
			return 0
		done
		;;
	esac
}

# manager_use makes version $2 of tool $1 current with the loaded manager,
# installing it first when $3 is "install".
manager_use() {
	local rc
	set +u
	case $manager in
	nvm)
		if [[ $3 == install ]]; then nvm install "$2" >&2; else nvm use --silent "$2" >&2; fi
		rc=$?
		;;
	rvm)
		if [[ $3 == install ]]; then rvm install "ruby-$2" >&2 && rvm use "ruby-$2" >&2; else rvm use "ruby-$2" >&2; fi
		rc=$?
		;;
	*) rc=1 ;;
	esac
	set -u
	return "$rc"
}

# use_tool makes a version of tool $1 that passes checks $3 (constraint
# $2 as written) the one on PATH: the one already there; else the newest
# fitting version nvm (node) or rvm (ruby) has installed; else, when the
# constraint names one exact version, that version installed with them.
# It appends what is wrong to problems.
use_tool() {
	local tool=$1 constraint=$2 check=$3 found='' best='' v msg manager
	local -a have
	if command -v "$tool" >/dev/null 2>&1; then
		found=$(version_of "$tool")
		if [[ -n $found ]] && holds "$found" "$check"; then
			echo "found $tool $found ($constraint)"
			return 0
		fi
	fi
	manager_load "$tool"
	for v in "${have[@]}"; do
		holds "$v" "$check" || continue
		if [[ -z $best ]]; then
			best=$v
		else
			vercmp "$v" "$best"
			((cmp > 0)) && best=$v
		fi
	done
	if [[ -n $best ]]; then
		manager_use "$tool" "$best" use
	elif [[ -n $manager && $check =~ ^=\ ([0-9]+(\.[0-9]+)*)$ ]]; then
		best=${BASH_REMATCH[1]}
		echo "installing $tool $best with $manager"
		manager_use "$tool" "$best" install
	fi
	if [[ -n $best ]] && command -v "$tool" >/dev/null 2>&1; then
		v=$(version_of "$tool")
		if [[ -n $v ]] && holds "$v" "$check"; then
			echo "using $tool $v from $manager ($constraint)"
			return 0
		fi
	fi
	if [[ -z $found ]] && command -v "$tool" >/dev/null 2>&1; then
		found="$tool at $(command -v "$tool"), which prints no version for --version"
	fi
	msg="needs $tool $constraint, found ${found:-no $tool on PATH}"
	if [[ -n $manager ]]; then
		msg+=" ($manager has ${have[*]:-no version installed})"
	elif [[ $tool == node ]]; then
		msg+=" (install it on the agent, or nvm to pick versions)"
	elif [[ $tool == ruby ]]; then
		msg+=" (install it on the agent, or rvm to pick versions)"
	fi
	problems+=("$msg")
}

# checkout checks the repository out at GIT_REF (a branch, tag or commit)
# into $WORKSPACE/src, sets GIT_HASH to the commit and changes to folder.
checkout() {
	local ref=${GIT_REF:-}
	if [[ -z $ref || $ref == -* || $ref =~ [[:space:]] ]]; then
		fail "GIT_REF must name a branch, tag or commit of $repository, found ${ref@Q}"
	fi
	echo "checking out $repository at $ref"
	export GIT_TERMINAL_PROMPT=0
	mkdir -p src && cd src || fail "cannot create $PWD/src"
	if [[ ! -d .git ]]; then
		git init --quiet . || fail "git init failed in $PWD"
	fi
	git remote remove origin >/dev/null 2>&1
	git remote add origin "$repository" || fail "cannot add the remote $repository"
	git fetch --quiet --force --prune origin '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*' ||
		fail "cannot fetch $repository (is it reachable from this agent, with read access?)"
	GIT_HASH=$(git rev-parse --verify --quiet "refs/remotes/origin/$ref^{commit}" ||
		git rev-parse --verify --quiet "refs/tags/$ref^{commit}" ||
		{ [[ $ref =~ ^[0-9a-f]{4,40}$ ]] && git rev-parse --verify --quiet "$ref^{commit}"; })
	if [[ -z $GIT_HASH ]] && git fetch --quiet origin "$ref" 2>/dev/null; then
		GIT_HASH=$(git rev-parse --verify --quiet 'FETCH_HEAD^{commit}')
	fi
	[[ -n $GIT_HASH ]] || fail "$repository has no branch, tag or commit '$ref'"
	git checkout --quiet --force --detach "$GIT_HASH" && git clean -qffdx ||
		fail "cannot check out $GIT_HASH of $repository"
	export GIT_HASH
	printf '{"git_hash":"%s"}\n' "$GIT_HASH" >"${JOBCTL_REPORT_DATA:-/dev/null}"
	echo "checked out $GIT_HASH"
	if [[ -n $folder ]]; then
		cd "./$folder" 2>/dev/null || fail "$repository has no folder $folder at $GIT_HASH"
	fi
}

main() {
	local i list name vars=() problems=()
	for i in "${!tools[@]}"; do
		use_tool "${tools[i]}" "${constraints[i]}" "${checks[i]}"
	done
	if ((${#problems[@]})); then
		printf -v list '%s; ' "${problems[@]}"
		fail "${list%; }"
	fi
	case $environment_mode in
	required)
		name=${ENVIRONMENT:-}
		environment "$name" || fail "$component has no environment ${name@Q}; it has: $environments"
		echo "environment ${ENVIRONMENT}"
		;;
	optional)
		if [[ -n ${ENVIRONMENT:-} ]]; then
			if environment "$ENVIRONMENT"; then
				echo "environment $ENVIRONMENT"
			else
				echo "$component has no environment '$ENVIRONMENT' (it has: ${environments:-none}); running without its variables"
			fi
		fi
		;;
	esac
	checkout
	for i in "${!commands[@]}"; do
		echo "+ ${commands[i]}"
		env "${vars[@]}" bash -o pipefail -ec "${commands[i]}" || fail "$step command $((i + 1)) of ${#commands[@]} failed with exit status $?: ${commands[i]}"
	done
	echo "$component: $step passed at $GIT_HASH"
}

main
