#!/usr/bin/env bash
# No shell script that sets pipefail tests a pipeline ending in `grep -q` or `grep -m`. usage:
#   pipefail_early_exit_test.sh SOURCE_DIR
# Such a grep exits at its first match; a writer still writing then dies of SIGPIPE, and pipefail
# makes the whole test fail although the match was found. How often depends on the machine's load
# (`ldd BINARY | grep -q LIB` failed 91 times in 1,000 on 2 busy cores), so CI fails at random.
# Read the writer's whole output first: grep -q PATTERN <<<"$(COMMAND)".
set -uo pipefail
source_dir=$1
self=$(realpath "$0")

# Prints the shell scripts under $1 that set pipefail, but this one, which names the pattern.
scripts_with_pipefail() {
  find "$1" \( -path "$1/build" -o -name .git \) -prune \
      -o -type f \( -name '*.sh' -o -path '*/.ci/run' \) -print | sort | while read -r script; do
    [ "$(realpath "$script")" != "$self" ] && grep -q pipefail "$script" && echo "$script"
  done
}

# Prints FILE:LINE:TEXT for each line outside comments of those scripts that pipes into grep -q/-m.
offending_lines() {
  scripts_with_pipefail "$1" | while read -r script; do
    grep -nE '\|[[:space:]]*grep[[:space:]]+(-[[:alnum:]]*[qm]|--quiet|--max-count)' "$script" |
      grep -vE '^[0-9]+:[[:space:]]*#' | sed "s|^|${script#"$1/"}:|"
  done
}

# The check itself can fail: a planted script with the pattern is found.
planted=$(mktemp -d)
trap 'rm -rf "$planted"' EXIT
printf '#!/usr/bin/env bash\nset -euo pipefail\nldd /bin/sh | grep -q libc\n' >"$planted/planted.sh"
found=$(offending_lines "$planted")
[ "$found" = "planted.sh:3:ldd /bin/sh | grep -q libc" ] ||
  { echo "FAIL: the planted 'ldd | grep -q' was not found (got: '$found')"; exit 1; }

found=$(offending_lines "$source_dir")
if [ -n "$found" ]; then
  echo "FAIL: pipelines ending in an early-exiting grep under pipefail (read the output first):"
  echo "$found"
  exit 1
fi
echo "ok: $(scripts_with_pipefail "$source_dir" | wc -l) scripts set pipefail;" \
  "none ends a tested pipeline in grep -q or -m"
