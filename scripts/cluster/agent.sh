#!/usr/bin/env bash
# Open MPI's launcher agent for the emulated cluster (cluster.sh; docs/cluster.md): where ssh logs
# in to a real host and runs Open MPI's daemon there, this enters the host's network namespace,
# gives it the host's name (its own UTS namespace: every process reports its host as on real
# hardware), and runs the daemon's command line with bash, as ssh would with the login shell.
# Like an ssh client, this script itself stays on the machine running mpirun (it waits for the
# host's side instead of becoming it), so killing a host's processes leaves it to report the loss.
# Open MPI calls it as: agent.sh HOST COMMAND...
set -uo pipefail
host=$1
shift
awk -v host="$host" '$1 == host { found = 1 } END { exit !found }' <<<"$(ip netns list)" ||
  { echo "cluster agent: no host '$host' (no network namespace of that name; is the cluster up?)" >&2; exit 255; }
ip netns exec "$host" unshare --uts bash -c 'hostname "$0" && eval "$1"' "$host" "$*"
status=$?
# As ssh says "Connection to HOST closed by remote host" when the host goes away, so that a lost
# host is named even when mpirun sees this agent end before it sees the daemon's connection drop.
if [ "$status" -gt 128 ]; then
  echo "cluster agent: lost host $host: its Open MPI daemon was killed (signal $((status - 128)))" >&2
  exit 255
fi
exit "$status"
