#!/usr/bin/env bash
# Refresh the vendored browser libraries served by the hub (GraphiQL and what it loads).
# Nothing a user's browser loads may come from the internet (situational centres run on
# closed networks), so these files live in the repository, taken from the exact npm
# versions below (checked against their registry integrity), with their licences.
#
#   hub/static/vendor/refresh.sh          # needs npm and the npm registry, nothing else
#
# To upgrade: change a version here, run the script, update the integrity it reports,
# run tests/test_static_pages.py (headless chromium renders GraphiQL) and commit the result.
# `//# sourceMappingURL=` comments are removed (the .map files are not vendored).
set -euo pipefail
cd "$(dirname "$0")"

# package@version  integrity (npm view PACKAGE@VERSION dist.integrity)  files to copy
PACKAGES=(
  "react@18.2.0|sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==|umd/react.production.min.js LICENSE"
  "react-dom@18.2.0|sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==|umd/react-dom.production.min.js LICENSE"
  "graphiql@3.8.3|sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==|graphiql.min.js graphiql.min.css LICENSE"
  "@graphiql/plugin-explorer@1.0.2|sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==|dist/index.umd.js dist/style.css"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r spec integrity files <<<"$entry"
  name=${spec%@*}
  dir=$(echo "$name" | tr -d '@' | tr '/' '-')   # @graphiql/plugin-explorer -> graphiql-plugin-explorer
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tgz=$(ls "$work"/*.tgz | head -1)
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "integrity mismatch for $spec: $actual" >&2
    exit 1
  fi
  mkdir -p "$work/x" && tar xzf "$tgz" -C "$work/x"
  rm -rf "$dir" && mkdir -p "$dir"
  for f in $files; do
    cp "$work/x/package/$f" "$dir/$(basename "$f")"
    case "$f" in *.js|*.css) sed -i '/^\/[/*]# sourceMappingURL=/d' "$dir/$(basename "$f")" ;; esac
  done
  if [ ! -e "$dir/LICENSE" ]; then   # the package ships none: its package.json licence field
    license=$(node -e "console.log(require('$work/x/package/package.json').license)")
    printf '%s %s is licensed under the %s licence (package.json "license" field;\nthe npm package ships no LICENSE file). Source: https://www.npmjs.com/package/%s\n' \
      "$name" "${spec##*@}" "$license" "$name" > "$dir/LICENSE"
  fi
  echo "$spec" > "$dir/VERSION"
  rm -rf "$work/x" "$tgz"
  echo "vendored $spec -> hub/static/vendor/$dir"
done
