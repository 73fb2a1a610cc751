#!/usr/bin/env bash
# An emulated cluster on one machine (docs/cluster.md): network namespaces are the hosts, each with
# its own address on a veth pair into one Linux bridge (the switch), and a token bucket of RATE on
# each host's link in both directions, so every host has a link of its own as on real hardware.
# Open MPI reaches the hosts through agent.sh, which enters a host's namespace where ssh would log
# in to a real host.
#
#   cluster.sh up N RATE      N hosts (1-200) with links of RATE (tc syntax: 1gbit, 10gbit, 100mbit)
#   cluster.sh down           removes everything `up` made (nothing else)
#   cluster.sh status         the hosts, their addresses and their links' qdiscs
#   cluster.sh mpirun ARGS... mpirun across the hosts: the hostfile, the agent and TCP on the
#                             cluster's subnet added to ARGS (what a user adds for real hosts,
#                             apart from the agent)
#
# Both `up` and `down` are idempotent; an `up` that fails half-way removes what it made. Needs
# root, ip, tc and a kernel with veth, bridge and tbf; without them it says what is missing and
# exits 77 (the test suite's "skipped").
#
# Environment (the defaults suit one cluster per machine):
#   CLUSTER_PREFIX=gc       names: bridge ${prefix}br, hosts ${prefix}host1..N (namespaces and
#                           host names), bridge ports ${prefix}v1..N
#   CLUSTER_SUBNET=10.250.0 a /24: host i is .i, the machine's own address on the bridge is .254
#   CLUSTER_MTU=9000        the links' MTU (jumbo frames, as in most training clusters)
#   CLUSTER_BURST           the token bucket's burst in bytes (default: 1 MB, or 1 ms at RATE if more)
#   CLUSTER_DIR             where the hostfile is kept (default /run/gradcomp-cluster-${prefix})
#   CLUSTER_PEAKRATE        if set (e.g. 1.05gbit), the bucket's burst drains at most at this rate
#                           (tbf peakrate, a 64 KB second bucket): no burst at the machine's speed
set -euo pipefail

prefix=${CLUSTER_PREFIX:-gc}
subnet=${CLUSTER_SUBNET:-10.250.0}
mtu=${CLUSTER_MTU:-9000}
dir=${CLUSTER_DIR:-/run/gradcomp-cluster-$prefix}
bridge=${prefix}br
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  sed -n '8,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

skip() {
  echo "cluster: $*" >&2
  exit 77
}

# The tools and kernel features the cluster needs; a clear message and exit 77 when one is missing.
check_prerequisites() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth, bridge and tc); run it as root"
  command -v ip >/dev/null || skip "needs 'ip' (Debian package iproute2)"
  command -v tc >/dev/null || skip "needs 'tc' (Debian package iproute2)"
  local probe=${prefix}probe
  ip link del "$probe" 2>/dev/null || true
  ip link add "$probe" type bridge 2>/dev/null || skip "the kernel refuses a bridge device (module bridge)"
  ip link del "$probe"
  ip link add "$probe" type veth peer name "${probe}p" 2>/dev/null || skip "the kernel refuses a veth pair (module veth)"
  if ! tc qdisc add dev "$probe" root tbf rate 1gbit burst 16kb latency 10ms 2>/dev/null; then
    ip link del "$probe"
    skip "the kernel refuses a tbf qdisc (module sch_tbf)"
  fi
  ip link del "$probe"
}

host_name() { echo "${prefix}host$1"; }

# Every namespace named like a host of this cluster: what `down` removes, whatever N was.
existing_hosts() {
  ip netns list | awk '{print $1}' | grep -E "^${prefix}host[0-9]+$" | sort -V || true
}

# RATE in bytes per second, from tc's syntax (bit, kbit, mbit, gbit; also Kbit, Mbit, Gbit).
rate_bytes_per_second() {
  local rate=${1,,} number unit
  number=${rate%%[a-z]*}
  unit=${rate#"$number"}
  case "$unit" in
    bit) echo $((number / 8)) ;;
    kbit) echo $((number * 1000 / 8)) ;;
    mbit) echo $((number * 1000000 / 8)) ;;
    gbit) echo $((number * 1000000000 / 8)) ;;
    *) echo "cluster: rate '$1' is not of the form <whole number><bit|kbit|mbit|gbit>, e.g. 1gbit" >&2
       exit 2 ;;
  esac
}

# The machine's ends of the hosts' links, whatever N was.
existing_ports() {
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^${prefix}v[0-9]+$" || true
}

down() {
  local host port
  # A namespace outlives `ip netns del` while a process still runs in it, and its link with it (an
  # `up` right after then finds the name taken): end the hosts' processes, delete the links from
  # this side, then the namespaces.
  for host in $(existing_hosts); do ip netns pids "$host" | xargs -r kill -9 2>/dev/null || true; done
  for port in $(existing_ports); do ip link del "$port" 2>/dev/null || true; done
  for host in $(existing_hosts); do ip netns del "$host"; done
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$dir"
}

# The token bucket on one direction of a link: the egress of DEVICE (in namespace NS, or the
# machine's own when NS is empty).
limit_link() {
  local ns=$1 device=$2 rate=$3 burst=$4
  local run=()
  [ -n "$ns" ] && run=(ip netns exec "$ns")
  local peak=()
  [ -n "${CLUSTER_PEAKRATE:-}" ] && peak=(peakrate "$CLUSTER_PEAKRATE" mtu 65536)
  "${run[@]}" tc qdisc replace dev "$device" root tbf rate "$rate" burst "$burst" "${peak[@]}" \
    latency 100ms
}

up() {
  local n=$1 rate=$2
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 200 ] ||
    { echo "cluster: N = '$n' is not a number of hosts in 1-200" >&2; exit 2; }
  local bytes_per_second burst
  bytes_per_second=$(rate_bytes_per_second "$rate")
  [ "$bytes_per_second" -gt 0 ] || { echo "cluster: rate '$rate' is zero" >&2; exit 2; }
  # 1 MB, or 1 ms at RATE if more (10 Gbit/s and up). A bucket of 1 ms at 1 Gbit/s (125 KB) or
  # less made TCP through it slower than the rate: 8 hosts exchanging 1.25 MB messages in a ring
  # reached 1.24x (1 Gbit/s) and 1.73x (500 Mbit/s) the model's time, 0.98x with 1 MB.
  burst=${CLUSTER_BURST:-$((bytes_per_second / 1000 > 1000000 ? bytes_per_second / 1000 : 1000000))}
  check_prerequisites
  down  # idempotent: whatever an earlier `up` left, including another N
  trap 'echo "cluster: up failed; removing what it made" >&2; down' ERR

  ip link add "$bridge" type bridge
  ip link set "$bridge" mtu "$mtu"
  # The machine's own address on the switch: mpirun runs here, and the hosts' daemons call it back.
  ip addr add "$subnet.254/24" dev "$bridge"
  ip link set "$bridge" up
  mkdir -p "$dir"
  : >"$dir/hostfile.new"
  local i host port
  for i in $(seq 1 "$n"); do
    host=$(host_name "$i")
    port=${prefix}v$i
    ip netns add "$host"
    ip link add "$port" mtu "$mtu" type veth peer name eth0 mtu "$mtu" netns "$host"
    ip link set "$port" master "$bridge" up
    ip netns exec "$host" ip link set lo up
    ip netns exec "$host" ip addr add "$subnet.$i/24" dev eth0
    ip netns exec "$host" ip link set eth0 up
    limit_link "$host" eth0 "$rate" "$burst"  # host -> switch
    limit_link "" "$port" "$rate" "$burst"    # switch -> host
    echo "$host slots=1" >>"$dir/hostfile.new"
  done
  mv "$dir/hostfile.new" "$dir/hostfile"
  echo "$rate" >"$dir/rate"
  trap - ERR
  echo "cluster: $n hosts ($(host_name 1)..$(host_name "$n"), $subnet.1-$n), links of $rate each way (burst $burst bytes), hostfile $dir/hostfile" >&2
}

status() {
  local hosts
  hosts=$(existing_hosts)
  [ -n "$hosts" ] || { echo "cluster: no hosts (run: cluster.sh up N RATE)"; return; }
  local host
  for host in $hosts; do
    echo "$host $(ip netns exec "$host" ip -4 -o addr show eth0 | awk '{print $4}') $(ip netns exec "$host" tc qdisc show dev eth0 | head -n 1)"
  done
}

cluster_mpirun() {
  [ -s "$dir/hostfile" ] || { echo "cluster: no cluster is up (run: cluster.sh up N RATE)" >&2; exit 2; }
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # The hosts share this machine's cores: with more hosts than cores a rank waiting in a
  # collective must yield its core to the rank (or the kernel's network stack) that has work, or
  # every wait spins. With a core per host, yielding only adds latency (2 hosts, DEF on the MLP:
  # about 3 ms more per step), and real hosts have cores of their own.
  local hosts yield=0
  hosts=$(wc -l <"$dir/hostfile")
  [ "$hosts" -gt "$(nproc)" ] && yield=1
  exec mpirun --hostfile "$dir/hostfile" --mca plm_rsh_agent "$here/agent.sh" \
    --mca mpi_yield_when_idle "$yield" --mca btl tcp,self --mca btl_tcp_if_include "$subnet.0/24" \
    --mca oob_tcp_if_include "$subnet.0/24" "$@"
}

case "${1:-}" in
  up) [ $# -eq 3 ] || usage; up "$2" "$3" ;;
  down) [ $# -eq 1 ] || usage; [ "$(id -u)" -eq 0 ] || skip "needs root"; down ;;
  status) status ;;
  mpirun) shift; cluster_mpirun "$@" ;;
  *) usage ;;
esac
