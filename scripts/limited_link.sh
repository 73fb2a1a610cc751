# Sourced by the scripts that run over a rate-limited link (bench/netem_exchange.sh,
# bench/torch_netem.sh, experiments/time-to-accuracy-real.sh). Needs root (ip netns, tc).
#
# limited_link NAMESPACE RATE: a network namespace whose loopback (MTU 9000) is limited by a token
# bucket of RATE (tc syntax, e.g. 1gbit; burst 1 MB, latency 100 ms); both directions of every
# connection inside share the one bucket. The namespace is deleted when the calling script exits.
limited_link() {
  local namespace=$1 rate=$2
  trap "ip netns del '$namespace' 2>/dev/null || true" EXIT
  ip netns add "$namespace"
  ip netns exec "$namespace" ip link set lo mtu 9000
  ip netns exec "$namespace" ip link set lo up
  ip netns exec "$namespace" tc qdisc add dev lo root tbf rate "$rate" burst 1mb latency 100ms
}
