#!/usr/bin/env bash
# The layer rules of docs/ARCHITECTURE.md, checked on the sources: every `#include "core/X/..."`
# in core/<layer>/ names a layer <layer> may use, no source sits loose in core/, no
# CMakeLists.txt globs, and every parallel loop goes through parallelFor. The libraries'
# declared dependencies make a wrong call a link error; this also catches a header-only
# use, which the linker never sees. Run by CTest (`layers`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The layers each layer may include, itself first; mirrors core/*/CMakeLists.txt.
declare -A allowed=(
  [model]="model"
  [support]="support model"
  [store]="store model"
  [io]="io model support store"
  [synth]="synth model support"
  [policies]="policies model"
  [engine]="engine model support store policies"
  [config]="config model support store io synth policies engine"
)

status=0
for dir in core/*/; do
  layer="$(basename "$dir")"
  if [[ -z "${allowed[$layer]+x}" ]]; then
    echo "core/$layer/: not a layer of docs/ARCHITECTURE.md"; status=1; continue
  fi
  while IFS=: read -r file line used; do
    if [[ " ${allowed[$layer]} " != *" $used "* ]]; then
      echo "$file:$line: core/$layer/ includes core/$used/ (it may use: ${allowed[$layer]})"
      status=1
    fi
  done < <(grep -rnoE '^#include "core/[a-z_]+/' "$dir" | sed -E 's#:\#include "core/([a-z_]+)/$#:\1#')
done

loose="$(find core -maxdepth 1 -type f ! -name CMakeLists.txt)"
[[ -z "$loose" ]] || { echo "sources outside a layer folder:"; echo "$loose"; status=1; }

globs="$(grep -rlE 'file\((GLOB|GLOB_RECURSE)' --include=CMakeLists.txt --include='*.cmake' --exclude-dir='build*' --exclude-dir=.git . || true)"
[[ -z "$globs" ]] || { echo "CMake files that glob (list the sources instead):"; echo "$globs"; status=1; }

# oneTBB cancels a task group silently; only parallelFor turns that into Cancelled
# (core/support/parallel.hpp). A loop that bypasses it can return a half-filled result.
direct="$(grep -rnE 'tbb::(parallel_for|parallel_reduce|parallel_invoke|task_group)\b' core ui app bench \
  --include='*.cpp' --include='*.hpp' | grep -v '^core/support/parallel.hpp:' || true)"
[[ -z "$direct" ]] || { echo "parallel loops outside parallelFor (core/support/parallel.hpp):"; echo "$direct"; status=1; }

[[ $status -eq 0 ]] && echo "layers ok: $(ls -d core/*/ | wc -l) layer folders, every include allowed, no globs, every parallel loop through parallelFor"
exit $status
