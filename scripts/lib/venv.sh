# Sourced by scripts/demo and scripts/test: the project's .venv and its install stamp.
# The stamp holds a hash of pyproject.toml and the Python version; the source is installed
# editable, so only a change to pyproject.toml (dependencies, entry points) needs pip again.

venv_fingerprint() {
  python3 - <<'PY'
import hashlib, pathlib, sys
digest = hashlib.sha256(pathlib.Path("pyproject.toml").read_bytes()).hexdigest()
print(f"python {sys.version.split()[0]} pyproject.toml {digest}")
PY
}

# install_venv EXTRAS: create .venv, install the project (with EXTRAS, e.g. "[test]"), stamp it.
install_venv() {
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$1"
  venv_fingerprint >.venv/installed-stamp
}

# venv_is_current: true when .venv was installed from this very pyproject.toml.
venv_is_current() {
  [ -x .venv/bin/release-notifier ] && [ -f .venv/installed-stamp ] \
    && [ "$(cat .venv/installed-stamp)" = "$(venv_fingerprint)" ]
}

# ensure_venv EXTRAS: install (with EXTRAS) only when .venv is missing or pyproject.toml changed
# since the stamp. Every extra includes the demo's, so a venv ./scripts/test made serves the demo.
ensure_venv() {
  if venv_is_current; then
    return 0
  fi
  echo "installing into .venv (pyproject.toml is new or changed)..."
  install_venv "$1"
}
