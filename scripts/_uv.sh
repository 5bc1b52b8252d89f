# Sourced by the scripts: find uv, or install the pinned version into .tools/ (a small venv,
# so it works where the system Python refuses pip installs, PEP 668).
UV_VERSION=0.13.8
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif [ -x .tools/bin/uv ]; then
  UV=(.tools/bin/uv)
else
  PY=$(command -v python3.11 || command -v python3)
  echo "installing uv $UV_VERSION into .tools/ ..." >&2
  "$PY" -m venv .tools
  .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  UV=(.tools/bin/uv)
fi
