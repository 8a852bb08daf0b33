#!/usr/bin/env bash
# Builds the core and cli jars twice from clean and fails unless both builds give byte-identical jars
# (project.build.outputTimestamp fixes every entry's time). Prints the SHA-256 of each jar.
set -euo pipefail
cd "$(dirname "$0")/.."
sums() { sha256sum core/target/lstm4j-core-*.jar cli/target/lstm4j.jar; }
mvn -B -q clean package -DskipTests -pl core,cli
first=$(sums)
mvn -B -q clean package -DskipTests -pl core,cli
second=$(sums)
echo "$first"
if [ "$first" != "$second" ]; then
  echo "check-reproducible: the second build differs:" >&2
  echo "$second" >&2
  exit 1
fi
echo "check-reproducible: two clean builds gave identical jars"
