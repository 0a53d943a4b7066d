#!/usr/bin/env bash
# Runs deploy/Containerfile without a container engine, on a Debian host, as root: each
# stage's base is stood in for by a fresh `debootstrap --variant=minbase bookworm` root
# with the images' apt sources, and the Containerfile's own instructions (ARG, ENV, SHELL,
# WORKDIR, COPY, RUN) are read from the file and run in it with chroot. Then the binary is
# copied into a second fresh root (the runtime stage) and run there; with --live, also in
# a network namespace of its own, from a read-only root, under no_new_privs with only
# CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (what the DaemonSet grants).
#
#   deploy/check-containerfile.sh [--live|--live-only] [WORKDIR]
#
# WORKDIR defaults to /tmp/tracer-containerfile; --live-only skips the stages and runs the
# live check in the roots an earlier run left there. Building takes 10-15 minutes on 2 cores.
#
# Stand-ins, said plainly: rust:RUST_VERSION-slim-bookworm is debian:bookworm-slim plus
# ca-certificates, gcc, libc6-dev and rustup with RUST_VERSION (minimal profile) in
# /usr/local/{rustup,cargo}; here the root gets those packages from apt and rustup and the
# toolchain from this host's ~/.rustup (copied, so nothing is downloaded from the Rust
# project's servers; the pinned nightly too, when the host has it). apt, crates.io and the
# rest are the real network steps of the recipe. deploy/README.md has what this proves.
set -euo pipefail

live=0 build_it=1
case "${1:-}" in
  --live) live=1 && shift ;;
  --live-only) live=1 build_it=0 && shift ;; # the roots of an earlier run, as they are
esac
work=${1:-/tmp/tracer-containerfile}
repo=$(cd "$(dirname "$0")/.." && pwd)
containerfile=$repo/deploy/Containerfile
[ "$(id -u)" = 0 ] || { echo "check-containerfile: run as root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
}
mkdir -p "$work"
say() { echo "check-containerfile: $*" >&2; }

# The Containerfile as instructions, one per line ("STAGE<TAB>INSTR<TAB>ARGS"), with line
# continuations joined and comments dropped as the builders do.
instructions() {
  python3 - "$containerfile" <<'EOF'
import sys
stage, out, cur = -1, [], ""
for raw in open(sys.argv[1]):
    line = raw.rstrip("\n")
    if line.lstrip().startswith("#"):
        continue
    if line.endswith("\\"):
        cur += line[:-1] + " "
        continue
    cur += line
    if cur.strip():
        instr, _, args = cur.strip().partition(" ")
        if instr.upper() == "FROM":
            stage += 1
        out.append(f"{stage}\t{instr.upper()}\t{args.strip()}")
    cur = ""
print("\n".join(out))
EOF
}

# A fresh minimal bookworm with the apt sources of Debian's images, which are this
# host's when it is bookworm (bookworm, -updates and -security: llvm-22 is in -security).
fresh_root() {
  local root=$1
  if [ ! -d "$work/base" ]; then
    say "debootstrap bookworm into $work/base"
    debootstrap --variant=minbase bookworm "$work/base.tmp" >&2
    rm -f "$work/base.tmp/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$work/base.tmp/etc/apt/sources.list.d/"
    mv "$work/base.tmp" "$work/base"
  fi
  # Never through a mount left by an interrupted run (/dev is bound in).
  { findmnt -rn -o TARGET | grep -F "$root/" || true; } | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$root"
  cp -a "$work/base" "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # Trust what this host trusts (a proxy's CA, say): ca-certificates adds these.
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
}

mounted=()
mount_api() {
  local root=$1
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --bind /dev "$root/dev"
  mounted+=("$root/dev" "$root/sys" "$root/proc")
}
cleanup() {
  for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
  ip netns del tracer-containerfile 2>/dev/null || true
}
trap cleanup EXIT

build=$work/build
run=$work/run
if [ "$build_it" = 1 ]; then
  # ---- the build stage -------------------------------------------------------------------
  fresh_root "$build"
  mount_api "$build"

  declare -A arg=()
  env_list=(PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo HOME=/root)
  shell=(/bin/sh -c)
  workdir=/
  expand() { # ${NAME} and $NAME from the ARGs seen so far
    local s=$1 k
    for k in "${!arg[@]}"; do s=${s//\$\{$k\}/${arg[$k]}}; s=${s//\$$k/${arg[$k]}}; done
    printf '%s' "$s"
  }

  while IFS=$'\t' read -r stage instr args; do
    case "$stage:$instr" in
      -1:ARG | 0:ARG)
        name=${args%%=*}
        [ "$name" = "$args" ] || arg[$name]=${args#*=}
        [ "$stage" = 0 ] && env_list+=("$name=${arg[$name]:-}")
        ;;
      0:FROM)
        from=$(expand "$args")
        say "build stage FROM ${from%% AS *} (stand-in: bookworm minbase + the rust image's setup)"
        rust_version=${arg[RUST_VERSION]:?ARG RUST_VERSION}
        # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
        chroot "$build" /usr/bin/env -i "${env_list[@]}" /bin/sh -c \
          'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ca-certificates gcc libc6-dev' >&2
        host_rustup=${RUSTUP_HOME:-$HOME/.rustup}
        tc=$rust_version-x86_64-unknown-linux-gnu
        [ -d "$host_rustup/toolchains/$tc" ] || { say "this host has no $tc toolchain to copy"; exit 1; }
        mkdir -p "$build/usr/local/rustup/toolchains" "$build/usr/local/rustup/update-hashes" \
          "$build/usr/local/cargo/bin"
        cp -aL "$host_rustup/toolchains/$tc" "$build/usr/local/rustup/toolchains/$tc"
        cp "$(command -v rustup)" "$build/usr/local/cargo/bin/rustup"
        for p in cargo rustc rustdoc rust-gdb rust-lldb rustfmt cargo-fmt; do
          ln -sf rustup "$build/usr/local/cargo/bin/$p"
        done
        printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$tc" \
          >"$build/usr/local/rustup/settings.toml"
        ;;
      0:ENV)
        env_list+=("$(expand "$args")")
        [[ $args == *=* ]] && arg[${args%%=*}]=${args#*=}
        ;;
      0:SHELL)
        mapfile -t shell < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$args")
        ;;
      0:WORKDIR)
        workdir=$args
        mkdir -p "$build$workdir"
        ;;
      0:COPY)
        [ "$args" = ". ." ] || { say "unexpected COPY $args"; exit 1; }
        # The build context less what .dockerignore leaves out.
        say "COPY the repository into $workdir"
        tar -C "$repo" --exclude-vcs --exclude=./target --exclude='./*/target' -cf - . |
          tar -C "$build$workdir" -xf -
        ;;
      0:RUN)
        if [[ $args == *"rustup toolchain install"* ]]; then
          # Seed the pinned nightly from this host when it has it: rustup then only checks it.
          k=${arg[KERNEL_TOOLCHAIN]:-}-x86_64-unknown-linux-gnu
          h=${RUSTUP_HOME:-$HOME/.rustup}
          if [ -d "$h/toolchains/$k" ]; then
            cp -a "$h/toolchains/$k" "$build/usr/local/rustup/toolchains/"
            cp "$h/update-hashes/$k" "$build/usr/local/rustup/update-hashes/" 2>/dev/null || true
          fi
        fi
        say "RUN $args"
        # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
        chroot "$build" /usr/bin/env -i "${env_list[@]}" /bin/sh -c 'cd "$0" && exec "$@"' \
          "$workdir" "${shell[@]}" "$args" >&2
        ;;
      0:*)
        say "build stage: $instr not handled"
        exit 1
        ;;
      1:FROM) break ;;
    esac
  done < <(instructions)

  # ---- the runtime stage -----------------------------------------------------------------
  fresh_root "$run"
  while IFS=$'\t' read -r stage instr args; do
    if [ "$stage" != 1 ] || [ "$instr" != COPY ]; then continue; fi
    read -r from src dst <<<"$args"
    [ "$from" = "--from=build" ] || { say "unexpected COPY $args"; exit 1; }
    say "COPY $src from the build stage to $dst"
    install -D -m 0755 "$build$src" "$run$dst"
  done < <(instructions)
  mount_api "$run"
  say "runtime stage: ldd, --version, an offline read"
  chroot "$run" ldd /usr/local/bin/tracer
  chroot "$run" /usr/local/bin/tracer --version
  pcap=$repo/tracer/tests/data/conn/delay.pcap
  cp "$pcap" "$run/tmp/check.pcap"
  chroot "$run" /usr/local/bin/tracer -r /tmp/check.pcap --conn --http --json >"$work/offline.json"
  rm -f "$run/tmp/check.pcap"
  head -n 2 "$work/offline.json"
  grep -q '"type":"conn"' "$work/offline.json"

else
  [ -x "$run/usr/local/bin/tracer" ] || { say "no $run/usr/local/bin/tracer: run without --live-only first"; exit 1; }
  mount_api "$run"
fi

if [ "$live" = 1 ]; then
  # The DaemonSet's privileges: root without capabilities but BPF, PERFMON and NET_ADMIN,
  # no_new_privs, read-only root; its own network namespace stands in for the host's.
  ip netns add tracer-containerfile
  ip netns exec tracer-containerfile ip link set lo up
  caps=-all,+bpf,+perfmon,+net_admin
  say "live: tracer -i any --conn --http --json -B 1024 with $caps, read-only root"
  # shellcheck disable=SC2016 # the inner shells expand their own arguments
  ip netns exec tracer-containerfile unshare -m --propagation private /bin/sh -c '
    set -e
    root=$1; shift
    mount --bind "$root" "$root" && mount -o remount,bind,ro "$root"
    mount -t proc proc "$root/proc"
    mount -t sysfs -o ro sysfs "$root/sys"
    exec chroot "$root" setpriv --no-new-privs --inh-caps '"$caps"' --bounding-set '"$caps"' \
      -- "$@"' sh "$run" /bin/sh -c 'grep ^Cap /proc/self/status >&2
      exec /usr/local/bin/tracer "$@"' sh -i any --conn --http --json -B 1024 "" \
    >"$work/live.json" 2>"$work/live.err" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$work/live.err" 2>/dev/null && break; sleep 0.1; done
  ip netns exec tracer-containerfile python3 -m http.server -b 127.0.0.1 18080 \
    -d "$repo/deploy" >/dev/null 2>&1 &
  web=$!
  sleep 1
  for _ in 1 2 3; do
    ip netns exec tracer-containerfile python3 -c \
      'import urllib.request; urllib.request.urlopen("http://127.0.0.1:18080/README.md").read()'
  done
  # Every step up to tracer execs in place: the background job is tracer itself.
  tpid=$pid
  kill -0 "$tpid" 2>/dev/null || { cat "$work/live.err" >&2; say "live: tracer is not running"; exit 1; }
  grep -E '^(VmRSS|VmHWM)' "/proc/$tpid/status" >&2
  # The kernel memory of its maps (charged to its memory cgroup): fdinfo of each map fd.
  python3 - "$tpid" <<'EOF' >&2
import glob, sys
maps = {}
for f in glob.glob(f"/proc/{sys.argv[1]}/fdinfo/*"):
    info = dict(l.split(":", 1) for l in open(f) if ":" in l)
    if "map_id" in info:
        maps[info["map_id"].strip()] = int(info.get("memlock", "0"))
print("check-containerfile: %d maps, %.1f MB of kernel memory" % (len(maps), sum(maps.values()) / 1e6))
EOF
  sleep 3
  kill "$web"
  kill -TERM "$tpid"
  wait "$pid" && rc=0 || rc=$?
  cat "$work/live.err" >&2
  say "live: exit $rc, $(wc -l <"$work/live.json") JSON lines on stdout:"
  head -n 4 "$work/live.json"
  [ "$rc" = 0 ] && grep -q '"type":"http"' "$work/live.json"
fi
say "ok"
