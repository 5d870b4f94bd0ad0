# Shared set-up of the benches (sourced): the onekube binary, a scratch directory cleaned on
# exit, Debian's busybox-static served by a local registry as onekube's Docker Hub mirror and
# loaded into podman (with runc) from the same OCI layout.

# bench_binary [path]: ONEKUBE (a release build, made if no path is given) and BUILD (its kind).
bench_binary() {
    ONEKUBE="${1:-}"
    BUILD="release build"
    if [ -z "$ONEKUBE" ]; then
        swift build -c release --static-swift-stdlib --product onekube >/dev/null
        ONEKUBE="$(swift build -c release --static-swift-stdlib --show-bin-path)/onekube"
    fi
    case "$ONEKUBE" in *debug*) BUILD="debug build";; esac
}

# bench_workdir NAME: WORK, DATA and PODMAN; everything goes on exit (daemon, registry, podman state).
bench_workdir() {
    # Lower case and short: podman names an image pulled from an OCI layout after its path.
    WORK="/tmp/$1-$$"
    mkdir -p "$WORK"
    DATA="$WORK/data"
    PODMAN=(podman --root "$WORK/podman-root" --runroot "$WORK/podman-run" --tmpdir "$WORK/podman-tmp" --runtime runc)
    trap bench_cleanup EXIT
}

bench_cleanup() {
    "$ONEKUBE" stop --data-dir "$DATA" --timeout 30 >/dev/null 2>&1 || true
    [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
    "${PODMAN[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true
    "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1 || true
    "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
    rm -rf "$WORK"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve_busybox: the image at $WORK/layout, pushed as library/busybox to a registry on
# 127.0.0.1:$REGISTRY_PORT (REGISTRY_PID).
serve_busybox() {
    python3 bench/make-busybox.py "$WORK/layout"
    REGISTRY_PORT=$(free_port)
    cat > "$WORK/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$REGISTRY_PORT}
YAML
    docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
    REGISTRY_PID=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null && break; sleep 0.05; done
    skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:latest" "docker://127.0.0.1:$REGISTRY_PORT/library/busybox:latest"
}

# podman_busybox: the same layout in podman as localhost/bench-busybox.
podman_busybox() {
    "${PODMAN[@]}" pull -q "oci:$WORK/layout:latest" >/dev/null
    "${PODMAN[@]}" tag "localhost$WORK/layout:latest" localhost/bench-busybox:latest
}

# machine_line WHAT: the heading of a RESULTS.md section.
machine_line() {
    echo "## $(date -u +%Y-%m-%d) $1 on $(uname -n): $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), cgroup $( [ -f /sys/fs/cgroup/cgroup.controllers ] && echo v2 || echo v1/hybrid)"
}
