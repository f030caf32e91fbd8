#!/usr/bin/env bash
# Builds the Debian packages patrol-agent_<version>_<arch>.deb and patrol-centre_<version>_<arch>.deb
# into out/packages/ (or --out DIR).
#
#   scripts/package.sh                    static release build (--static-swift-stdlib, .build-release),
#                                         then both packages, checked with lintian when it is installed
#   scripts/package.sh --binaries DIR [--version V] [--compression gzip|xz] [--no-lintian]
#                                         packages the binaries already in DIR instead (the lifecycle
#                                         test packages the debug build, and again as a newer version)
#   scripts/package.sh --arch arm64 --swift-sdk NAME
#                                         cross-builds with that Swift SDK (`swift sdk list`) and makes
#                                         arm64 packages (README: "Building for arm64 boards"); with
#                                         --binaries DIR, --arch says which architecture DIR holds.
#                                         The foreign binaries are not run: their version is read from
#                                         the file, and Depends come from that architecture's shared
#                                         libraries, installed here through dpkg's multiarch.
#
# The version is the one in Sources/CPlatform/version.c, the one `--version` prints. The packages
# are made with dpkg-deb --root-owner-group (no fakeroot needed); their files and maintainer scripts
# are Board/systemd, Board/udev, Board/debian and Config/*.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

binaries=""
version=""
out="out/packages"
compression="xz"
lintian=yes
arch=""
swift_sdk=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binaries) binaries="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --compression) compression="$2"; shift 2 ;;
    --no-lintian) lintian=no; shift ;;
    --arch) arch="$2"; shift 2 ;;
    --swift-sdk) swift_sdk="$2"; shift 2 ;;
    *) echo "package.sh: unknown argument '$1' (see the usage at the top of scripts/package.sh)" >&2; exit 2 ;;
  esac
done

built_version=$(sed -n 's/^#define PATROL_VERSION "\(.*\)"$/\1/p' Sources/CPlatform/version.c)
[ -n "$built_version" ] || { echo "package.sh: no PATROL_VERSION line in Sources/CPlatform/version.c" >&2; exit 1; }
version="${version:-$built_version}"
host_arch=$(dpkg --print-architecture)
arch="${arch:-$host_arch}"
# The GNU triplet of the packages' architecture: where its libraries are (/usr/lib/<triplet>).
triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null) || {
  echo "package.sh: '$arch' is not a Debian architecture (e.g. amd64, arm64)" >&2; exit 2
}
if [ "$arch" != "$host_arch" ] && [ -z "$binaries" ] && [ -z "$swift_sdk" ]; then
  echo "package.sh: building for $arch on $host_arch needs --swift-sdk NAME (README: \"Building for arm64 boards\")" >&2
  exit 2
fi
maintainer="${PATROL_MAINTAINER:-PatrolLink maintainers <patrollink@example.org>}"

if [ -z "$binaries" ]; then
  # The commit the binaries say they were built from (Package.swift reads it).
  PATROL_COMMIT=$(git rev-parse --short=12 HEAD)
  if [ -n "$(git status --porcelain)" ]; then
    echo "package.sh: warning: uncommitted changes; the binaries will say '$PATROL_COMMIT+dirty'" >&2
    PATROL_COMMIT="$PATROL_COMMIT+dirty"
  fi
  export PATROL_COMMIT
  # The machine is shared: a release build takes long and must not starve the others. A cross
  # build has its own scratch folder, so it never mixes with the host's objects.
  build=(swift build -c release --static-swift-stdlib)
  if [ -n "$swift_sdk" ]; then
    build+=(--swift-sdk "$swift_sdk" --scratch-path ".build-release-$arch")
  else
    build+=(--scratch-path .build-release)
  fi
  for product in patrol-agent patrol-centre; do
    nice -n 15 "${build[@]}" --product "$product"
  done
  binaries=$("${build[@]}" --show-bin-path)
  # A package must hold the version and commit it is named for; a foreign binary cannot be run
  # here, so its version is looked for in the file (patrol_version() is one string literal).
  for product in patrol-agent patrol-centre; do
    if [ "$arch" = "$host_arch" ]; then
      said=$("$binaries/$product" --version)
      [ "$said" = "$version (commit $PATROL_COMMIT)" ]
    else
      said="(not run: built for $arch)"
      grep -qaF "$version (commit $PATROL_COMMIT)" "$binaries/$product"
    fi || {
      echo "package.sh: $binaries/$product --version says '$said', not '$version (commit $PATROL_COMMIT)'" >&2
      exit 1
    }
  done
fi
if [ "$arch" != "$host_arch" ]; then
  # dpkg-shlibdeps finds a foreign binary's libraries, and the packages they come from, only when
  # that architecture's libraries are installed here (multiarch); say which are missing.
  for product in patrol-agent patrol-centre; do
    for library in $(readelf -d "$binaries/$product" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
      [ -e "/usr/lib/$triplet/$library" ] || [ -e "/lib/$triplet/$library" ] || {
        echo "package.sh: $product needs $library for $arch, which is not installed here; install the $arch runtime" \
             "libraries: dpkg --add-architecture $arch && apt-get update && apt-get install" \
             "libgps28:$arch libserialport0:$arch libsqlite3-0:$arch zlib1g:$arch libstdc++6:$arch" >&2
        exit 1
      }
    done
  done
fi

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Reproducible: file times are the commit's, not the build's.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

# GNU strip here knows only the host's machine code; the Swift toolchain's llvm-objcopy knows all.
strip_binary() {
  if [ "$arch" = "$host_arch" ]; then
    strip --strip-unneeded "$1"
  else
    "$(dirname "$(readlink -f "$(command -v swift)")")/llvm-objcopy" --strip-unneeded "$1"
  fi
}

# The shared libraries a binary links (gpsd's, libserialport, SQLite, zlib, libc), as Depends.
shared_library_depends() {
  mkdir -p "$work/shlibs/debian"
  printf 'Source: patrollink\n\nPackage: %s\nArchitecture: any\n' "$1" > "$work/shlibs/debian/control"
  (cd "$work/shlibs" && dpkg-shlibdeps -O "$2") | sed -n 's/^shlibs:Depends=//p'
}

# make_package NAME USER EXTRA_GROUPS PRIVATE_DIRS UDEV_RULES CONFIG_SOURCE CONFIG_NAME DESCRIPTION SUMMARY RECOMMENDS
make_package() {
  local name=$1 user=$2 extra_groups=$3 private_dirs=$4 udev_rules=$5 config_source=$6 config_name=$7
  local description=$8 summary=$9 recommends=${10}
  local root="$work/$name"
  install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/$name" "$root/usr/share/doc/$name"
  install -m 0755 "$binaries/$name" "$root/usr/bin/$name"
  strip_binary "$root/usr/bin/$name"
  install -m 0644 "Board/systemd/$name.service" "$root/lib/systemd/system/$name.service"
  if [ -n "$udev_rules" ]; then
    install -d -m 0755 "$root/lib/udev/rules.d"
    install -m 0644 "Board/udev/$udev_rules" "$root/lib/udev/rules.d/$udev_rules"
  fi
  install_config "$config_source" "$root/etc/$name/$config_name" "$name" "$config_name"
  echo "/etc/$name/$config_name" > "$root/DEBIAN/conffiles"

  local script
  for script in postinst prerm postrm; do
    sed -e "s|@PACKAGE@|$name|g" -e "s|@USER@|$user|g" -e "s|@EXTRA_GROUPS@|$extra_groups|g" \
        -e "s|@PRIVATE_DIRS@|$private_dirs|g" -e "s|@UDEV_RULES@|$udev_rules|g" \
        -e "s|@STATE_DIR@|/var/lib/$name|g" -e "s|@DESCRIPTION@|$description|g" \
        "Board/debian/$script" > "$root/DEBIAN/$script"
    chmod 0755 "$root/DEBIAN/$script"
  done

  install -m 0644 Board/debian/copyright "$root/usr/share/doc/$name/copyright"
  install -d -m 0755 "$root/usr/share/lintian/overrides"
  sed "s|@PACKAGE@|$name|g" Board/debian/lintian-overrides > "$root/usr/share/lintian/overrides/$name"
  chmod 0644 "$root/usr/share/lintian/overrides/$name"
  sed -e "s|@PACKAGE@|$name|g" -e "s|@USER@|$user|g" "Board/debian/README.Debian" > "$root/usr/share/doc/$name/README.Debian"
  chmod 0644 "$root/usr/share/doc/$name/README.Debian"
  {
    echo "$name ($version) stable; urgency=medium"
    echo
    echo "  * Built from $(git rev-parse --short=12 HEAD 2>/dev/null || echo 'an unknown commit'); see the project's git history."
    echo
    echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
  } | gzip -9n > "$root/usr/share/doc/$name/changelog.gz"
  chmod 0644 "$root/usr/share/doc/$name/changelog.gz"

  local depends
  depends="adduser, $(shared_library_depends "$name" "$root/usr/bin/$name")"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    echo "Depends: $depends"
    [ -z "$recommends" ] || echo "Recommends: $recommends"
    echo "Section: misc"
    echo "Priority: optional"
    echo "Description: $summary"
    sed 's/^/ /' "Board/debian/$name.description"
  } > "$root/DEBIAN/control"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

  dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$out/${name}_${version}_${arch}.deb" >/dev/null
  echo "$out/${name}_${version}_${arch}.deb"
}

# The packaged configuration is the commented example, made to fail `config check` until the
# technician has set this board's device id (the agent then exits 78 and systemd does not restart
# it), and pointing at where it is installed.
install_config() {
  local source=$1 target=$2 name=$3 config_name=$4
  sed -e "s|Config/$(basename "$source")|/etc/$name/$config_name|g" \
      -e 's|^id = "car-12" *#|id = ""                      # SET THIS: |' \
      "$source" > "$target"
  chmod 0644 "$target"
}

make_package patrol-agent patrol dialout "" 99-patrollink.rules Config/patrol-car.toml agent.toml \
  "PatrolLink agent" "PatrolLink agent: patrol track, alarms and store-and-forward uplink" gpsd
make_package patrol-centre patrol-centre "" /etc/patrol-centre/tls "" Config/centre.example.toml centre.toml \
  "PatrolLink centre" "PatrolLink centre: receives tracks, alarms and check-ins from patrol boards" ""

if [ "$lintian" = yes ]; then
  if command -v lintian >/dev/null; then
    lintian --fail-on error,warning "$out/patrol-agent_${version}_${arch}.deb" "$out/patrol-centre_${version}_${arch}.deb"
  else
    echo "package.sh: lintian is not installed (apt-get install lintian); packages not checked" >&2
  fi
fi
