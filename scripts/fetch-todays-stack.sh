#!/usr/bin/env bash
# Fetches the newest Pushgateway, Prometheus, node_exporter and VictoriaMetrics that Debian ships
# (unstable) without installing them: a private apt directory with one source line for sid on the
# mirror this machine's own sources name, `apt-get download`, `dpkg -x` into a cache folder.
# Prints shell lines that point the tests at them (PUSHGATEWAY_BIN=… and the like):
#   eval "$(bash scripts/fetch-todays-stack.sh)"
# The system's own packages and apt state are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${PUSHGW_STACK_DIR:-$PWD/.ci/.stack}"
apt_dir="$root/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$root/debs" "$root/unpacked"
# One run at a time: test files fetch in parallel workers, and apt runs here without its locks.
exec 9>"$root/.lock"
flock 9

# The mirror the machine's own sources name (deb822 or one-line format), deb.debian.org otherwise.
mirror=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | sed 's/^URIs: *//' || true)
[ -n "$mirror" ] || mirror=$(grep -hoE '^deb +(\[[^]]*\] +)?[^ ]+' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $NF}' || true)
[ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" > "$apt_dir/sources.list"

apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=/dev/null"
  -o "APT::Architecture=amd64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
packages=(prometheus-pushgateway prometheus prometheus-node-exporter victoria-metrics)

# Refresh the lists at most once a day: CI on a kept machine reuses what it fetched.
if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n1)" ]; then
  apt-get "${apt_opts[@]}" -qq update >&2
fi
for pkg in "${packages[@]}"; do
  # awk reads to the end: leaving early would kill apt-cache with SIGPIPE, and pipefail the script.
  version=$(apt-cache "${apt_opts[@]}" show "$pkg" 2>/dev/null | awk '/^Version:/ && v == "" {v = $2} END {print v}')
  [ -n "$version" ] || { echo "fetch-todays-stack: Debian unstable has no $pkg" >&2; exit 1; }
  target="$root/unpacked/$pkg-$version"
  if [ ! -d "$target" ]; then
    (cd "$root/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg" >&2)
    # The file of exactly this version (apt names it with the epoch's colon as %3a).
    deb=$(printf '%s' "$root/debs/${pkg}_${version/:/%3a}_"*.deb)
    [ -f "$deb" ] || { echo "fetch-todays-stack: apt-get download left no $pkg $version" >&2; exit 1; }
    rm -rf "$target.partial"
    dpkg -x "$deb" "$target.partial" || { echo "fetch-todays-stack: could not unpack $deb" >&2; exit 1; }
    mv "$target.partial" "$target"
  fi
  case "$pkg" in
    prometheus-pushgateway) echo "export PUSHGATEWAY_BIN='$target/usr/bin/prometheus-pushgateway'" ;;
    prometheus) echo "export PROMETHEUS_BIN='$target/usr/bin/prometheus'" ;;
    prometheus-node-exporter) echo "export NODE_EXPORTER_BIN='$target/usr/bin/prometheus-node-exporter'" ;;
    victoria-metrics) echo "export VICTORIA_METRICS_BIN='$target/usr/bin/victoria-metrics'" ;;
  esac
done
