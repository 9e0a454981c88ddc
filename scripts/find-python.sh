#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what is missing and fail.
# Looks at $PYTHON, python3.13, python3.12, python3, then pyenv's installed versions.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.13 python3.12 python3; do
  p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
done
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for p in "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3; do
  [ -x "$p" ] && candidates+=("$p")
done
for p in "${candidates[@]}"; do
  if ok "$p"; then echo "$p"; exit 0; fi
done
echo "error: this project needs Python >= 3.12 (Mesa 3.5 requires it) and none was found." >&2
echo "  Tried: ${candidates[*]:-nothing}" >&2
echo "  Install one (e.g. 'pyenv install 3.12', or your system's python3.12 package)," >&2
echo "  or point PYTHON at it: make PYTHON=/path/to/python3.12 test" >&2
exit 1
