# Shared by bin/run and bin/test: a Python >= 3.11 virtualenv in .venv with the project
# installed (re-installed only when pyproject.toml changes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "msp-ops needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  exit 1
}

covered_by_stamp() {
  local hash="$1" extra="$2" have
  for have in dev test; do
    [ -f ".venv/.installed-$hash-$have" ] || continue
    case "$extra" in "" | test) return 0 ;; esac
    [ "$extra" = "$have" ] && return 0
  done
  return 1
}

# ensure_venv EXTRA: creates .venv and installs the project with that extra ("" for none).
ensure_venv() {
  local extra="$1" spec="." stamp
  [ -n "$extra" ] && spec=".[$extra]"
  if [ ! -x .venv/bin/python ]; then
    echo "==> Creating .venv"
    "$(pick_python)" -m venv .venv
  fi
  local hash
  hash="$(sha256sum pyproject.toml | cut -c1-16)"
  stamp=".venv/.installed-$hash-${extra:-base}"
  # An install with more extras covers one with fewer: [dev] includes [test], both include base.
  if [ ! -f "$stamp" ] && ! covered_by_stamp "$hash" "$extra"; then
    echo "==> Installing msp-ops ${extra:+with [$extra] }into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e "$spec"
    touch "$stamp"
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
  export VIRTUAL_ENV="$ROOT/.venv"
}

# ensure_system_packages CMD-OR-PATH=DEBIAN-PACKAGE ...: installs what is missing (as root).
ensure_system_packages() {
  local missing=() pair probe package
  for pair in "$@"; do
    probe="${pair%%=*}" package="${pair#*=}"
    if [[ "$probe" == /* ]]; then
      compgen -G "$probe" >/dev/null || missing+=("$package")
    else
      command -v "$probe" >/dev/null 2>&1 || missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]}. Install them (e.g. sudo apt-get install ${missing[*]}) and run again." >&2
    exit 1
  fi
}
