#!/usr/bin/env bash
# Installs what building the Aeron transport (crates/fxrecon-aeron, rusteron's bundled Aeron C
# sources) needs on a fresh Debian 12 with a Rust toolchain, and puts it on PATH.
#
#   source scripts/bootstrap.sh      # .ci/run does this: PATH then has cmake >= 3.30 first
#   bash scripts/bootstrap.sh        # checks/installs only (prints the PATH line to use)
#
# - apt: clang libclang-dev (bindgen), libbsd-dev uuid-dev (Aeron's C client/driver),
#   pkg-config. Installed with apt-get when missing (as root, or with sudo).
# - cmake >= 3.30 (Aeron's CMakeLists requires it; Debian 12 ships 3.25): the `cmake` wheel
#   from PyPI in a venv under $FXRECON_TOOLS_DIR (default ~/.cache/fxrecon-tools), made once;
#   later calls only check its version (well under a second). When no cmake >= 3.30 is on
#   PATH otherwise, it is also linked into cargo's bin directory (${CARGO_HOME:-~/.cargo}/bin,
#   on PATH wherever rustup is), so a plain `cargo build` in another shell finds it too;
#   FXRECON_BOOTSTRAP_LINK=0 skips the link.
# Exits (or returns, when sourced) non-zero with a message saying what is missing when it
# cannot install it. Idempotent. FXRECON_BOOTSTRAP_QUIET=1 silences the progress lines.

_fxb_say() { [ "${FXRECON_BOOTSTRAP_QUIET:-0}" = 1 ] || echo "bootstrap: $*" >&2; }
_fxb_fail() { echo "bootstrap: error: $*" >&2; return 1; }

# The cmake wheel range known to build Aeron 1.5x (3.30 is the minimum its CMakeLists asks).
_FXB_CMAKE_SPEC='cmake>=3.30,<3.32'
_FXB_APT_PACKAGES=(clang libclang-dev libbsd-dev uuid-dev pkg-config)

# True when `$1 --version` reports cmake >= 3.30.
_fxb_cmake_ok() {
    local v
    v=$("$1" --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || return 1
    [ -n "$v" ] || return 1
    set -- $v
    [ "$1" -gt 3 ] || { [ "$1" -eq 3 ] && [ "$2" -ge 30 ]; }
}

_fxb_apt() {
    local missing=() p
    for p in "${_FXB_APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 ||
        { _fxb_fail "missing ${missing[*]} and no apt-get here: install them by hand"; return 1; }
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 ||
            { _fxb_fail "missing ${missing[*]}: run as root or install them: apt-get install ${missing[*]}"; return 1; }
        sudo=(sudo -n)
    fi
    _fxb_say "installing ${missing[*]} (apt)"
    # The package lists of a fresh machine may be empty or old: update once before installing.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
        { _fxb_fail "apt-get update failed"; return 1; }
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        { _fxb_fail "apt-get install ${missing[*]} failed"; return 1; }
}

_fxb_cmake() {
    local tools="${FXRECON_TOOLS_DIR:-$HOME/.cache/fxrecon-tools}"
    local venv="$tools/venv"
    if [ -x "$venv/bin/cmake" ] && _fxb_cmake_ok "$venv/bin/cmake"; then
        _FXB_BIN="$venv/bin"
        return 0
    fi
    if command -v cmake >/dev/null 2>&1 && _fxb_cmake_ok "$(command -v cmake)"; then
        _FXB_BIN=""
        return 0
    fi
    local py
    py=$(command -v python3) || { _fxb_fail "cmake >= 3.30 is needed and python3 is missing (apt-get install python3-venv)"; return 1; }
    _fxb_say "installing $_FXB_CMAKE_SPEC into $venv (PyPI wheel)"
    mkdir -p "$tools" || { _fxb_fail "cannot create $tools"; return 1; }
    rm -rf "$venv"
    "$py" -m venv "$venv" ||
        { _fxb_fail "python3 -m venv failed (apt-get install python3-venv)"; return 1; }
    "$venv/bin/python" -m pip install -q "$_FXB_CMAKE_SPEC" ||
        { _fxb_fail "pip install '$_FXB_CMAKE_SPEC' failed (is PyPI reachable?)"; return 1; }
    _fxb_cmake_ok "$venv/bin/cmake" ||
        { _fxb_fail "$venv/bin/cmake is not cmake >= 3.30"; return 1; }
    _FXB_BIN="$venv/bin"
}

# Links the venv's cmake into cargo's bin directory unless a good cmake is there already.
_fxb_link() {
    [ "${FXRECON_BOOTSTRAP_LINK:-1}" = 1 ] || return 0
    local bin="${CARGO_HOME:-$HOME/.cargo}/bin"
    [ -d "$bin" ] && [ -w "$bin" ] || return 0
    if [ -x "$bin/cmake" ] && _fxb_cmake_ok "$bin/cmake"; then
        return 0
    fi
    [ -e "$bin/cmake" ] && [ ! -L "$bin/cmake" ] && return 0
    ln -sfn "$_FXB_BIN/cmake" "$bin/cmake" && _fxb_say "linked $bin/cmake -> $_FXB_BIN/cmake"
}

fxrecon_bootstrap() {
    _fxb_apt || return 1
    _fxb_cmake || return 1
    if [ -n "$_FXB_BIN" ]; then
        case ":$PATH:" in
            "$_FXB_BIN:"*) ;;
            *) export PATH="$_FXB_BIN:$PATH" ;;
        esac
        _fxb_link
    fi
    _fxb_say "ok: $(cmake --version | head -n 1) ($(command -v cmake)), $(clang --version | head -n 1)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    fxrecon_bootstrap
    [ -z "${_FXB_BIN:-}" ] || echo "export PATH=\"$_FXB_BIN:\$PATH\""
else
    fxrecon_bootstrap
fi
