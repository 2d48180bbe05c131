# Installs what Foghorn needs when it is missing; sourced by run.sh and test.sh.
# Every check is cheap, so a machine that has everything is ready in seconds.
# Targets a Debian/Ubuntu machine with the Rust toolchain (rustup), Node.js and apt.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132.0.0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

say() { echo "==> $*" >&2; }

# ensure_apt PACKAGE...: installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} (apt)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The wasm target, cargo-leptos, and the wasm-bindgen CLI matching Cargo.lock exactly.
ensure_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  local bindgen
  bindgen="$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen\$"; then
    say "installing wasm-bindgen-cli $bindgen (a few minutes, once)"
    # Not --locked: its lock file names a crate version the registry does not serve.
    cargo install wasm-bindgen-cli --version "$bindgen" --force
  fi
}

# sqlx-cli at the lock file's sqlx version: `cargo sqlx prepare --check` proves the
# committed query metadata (.sqlx/) matches the queries and the migrated schema.
ensure_sqlx_cli() {
  local sqlx
  sqlx="$(grep -A1 '^name = "sqlx"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')"
  if ! cargo sqlx --version 2>/dev/null | grep -q " $sqlx\$"; then
    say "installing sqlx-cli $sqlx (a few minutes, once)"
    cargo install sqlx-cli --version "$sqlx" --locked --no-default-features --features rustls,postgres
  fi
}

# wasm-opt for release builds, from npm: Debian's binaryen is too old and produces
# wasm that fails to hydrate.
ensure_wasm_opt() {
  if ! "$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    say "installing wasm-opt (binaryen $BINARYEN_VERSION, npm)"
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
  fi
  export PATH="$TOOLS/node_modules/.bin:$PATH"
}

# schemathesis (PyPI), pinned, in a virtual environment of its own: it checks the REST
# API against its OpenAPI document.
SCHEMATHESIS_VERSION="4.32.5"
ensure_schemathesis() {
  if ! "$TOOLS/schemathesis/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION (PyPI, once)"
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
      ensure_apt python3-venv
    fi
    rm -rf "$TOOLS/schemathesis"
    python3 -m venv "$TOOLS/schemathesis"
    "$TOOLS/schemathesis/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
}

# PostgreSQL's server programs, for the embedded default database.
ensure_postgres_server() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
    ensure_apt postgresql
  fi
}
