#!/bin/sh
# webgpu-nlp bench kit: the Node bench on this machine's GPU, with no npm install and no repository.
# Built by `npm run bench:kit -- --out DIR` (tools/bench-kit.mjs), which copies this file to DIR/run.
#
#   ./run [suite ...] [--quick] [--reps N] [--sizes a,b] [--no-peers]   run suites (all but ort by default)
#   ./run --tune [--quick] [--keys a,b]        autotune tiles -> results/<adapter>.tuning.json
#   ./run ... --tuning results/<adapter>.tuning.json   run with that tuning table
#   ./run ... --peak-gflops N --peak-gbps N    the GPU's FP32 peak and bandwidth, where the kit's table lacks it
#   ./run --swiftshader ...                    SwiftShader (Debian's chromium) instead of the GPU, to try the kit
#   ./run --bundled-node ...                   the Node the kit carries even when PATH has one
#   ./run --vulkan-info                        what would be used (Node, Vulkan loader, driver manifest) and exit
#   ./run --vulkan-setup [libvulkan1_*.deb]    unpack Debian/Ubuntu's Vulkan loader into ./vulkan
#                                              (`apt-get download libvulkan1` when no file is given)
# Results: results/<adapter>.json and results/<adapter>.tuning.json in this folder (or --results DIR),
# with the GPU's name, driver, Vulkan version and the kit's commit.
set -eu

KIT=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
die() {
  echo "run: $*" >&2
  exit 1
}

case "$(uname -s)-$(uname -m)" in
Linux-x86_64) ;;
*) die "this kit carries Dawn and Node for Linux x86_64 only; this machine is $(uname -s) $(uname -m)" ;;
esac

# The newest glibc symbol version dawn.node and the carried Node use (tools/bench-kit.mjs checks
# this line against the binaries it packs): Ubuntu 22.04, Debian 12, RHEL 9 or newer.
MIN_GLIBC=2.34
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p')
if [ -n "$glibc" ]; then
  have_major=${glibc%%.*}
  have_minor=${glibc#*.}
  have_minor=${have_minor%%.*}
  if [ "$have_major" -lt 2 ] || { [ "$have_major" -eq 2 ] && [ "$have_minor" -lt "${MIN_GLIBC#2.}" ]; }; then
    die "Dawn's dawn.node needs glibc $MIN_GLIBC or newer (Ubuntu 22.04, Debian 12, RHEL 9); this machine has $glibc"
  fi
fi

# xz-compressed file -> plain file, next to it; xz, else Python's lzma module.
unpack() {
  src=$1
  dest=$2
  [ -f "$dest" ] && return 0
  echo "run: unpacking $(basename "$src") (first use)" >&2
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$src" >"$dest.part" || die "xz could not unpack $src"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$src" "$dest.part" ||
      die "python3 could not unpack $src"
  else
    die "unpacking $src needs xz or python3 (install xz-utils), or unpack it elsewhere with 'xz -dk' and copy it here"
  fi
  mv "$dest.part" "$dest"
}

SWIFTSHADER=0
BUNDLED_NODE=0
RESULTS_GIVEN=0
ACTION=run
DEB=
# The kit's own flags are taken out; the rest go to the bench.
n=$#
while [ "$n" -gt 0 ]; do
  a=$1
  shift
  n=$((n - 1))
  case "$a" in
  --swiftshader) SWIFTSHADER=1 ;;
  --bundled-node) BUNDLED_NODE=1 ;;
  --vulkan-info) ACTION=info ;;
  --vulkan-setup)
    ACTION=setup
    if [ "$n" -gt 0 ] && [ "${1%.deb}" != "$1" ]; then
      DEB=$1
      shift
      n=$((n - 1))
    fi
    ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
  --results) RESULTS_GIVEN=1 && set -- "$@" "$a" ;;
  *) set -- "$@" "$a" ;;
  esac
done

# --- Node: PATH's when it is 20 or newer, else the one the kit carries (node.xz, unpacked once).
NODE=
if [ "$BUNDLED_NODE" = 0 ] && command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 20 ] 2>/dev/null; then NODE=$(command -v node); fi
fi
if [ -z "$NODE" ]; then
  if [ -f "$KIT/node.xz" ]; then
    mkdir -p "$KIT/bin"
    unpack "$KIT/node.xz" "$KIT/bin/node"
    chmod +x "$KIT/bin/node"
  fi
  if [ -x "$KIT/bin/node" ]; then
    NODE=$KIT/bin/node
  elif [ "$ACTION" = run ]; then
    die "needs Node 20 or newer on PATH, and this kit carries none: rebuild it with 'npm run bench:kit -- --with-node'"
  fi
fi

# --- Dawn's native module, where the bundled 'webgpu' package looks for it.
DAWN=$KIT/dist/linux-x64/dawn.node
if [ ! -f "$DAWN" ] && [ -f "$DAWN.xz" ]; then unpack "$DAWN.xz" "$DAWN"; fi

# --- The Vulkan loader (libvulkan.so.1): the system's, else ./vulkan (from --vulkan-setup), else the
# copy of Chromium's loader the kit carries.
ARCH_LIB=x86_64-linux-gnu
find_loader() {
  if command -v ldconfig >/dev/null 2>&1; then
    p=$(ldconfig -p 2>/dev/null | sed -n 's/^[[:space:]]*libvulkan\.so\.1 (.*x86-64.*) => //p' | head -n 1)
    if [ -n "$p" ] && [ -f "$p" ]; then
      echo "$p"
      return
    fi
  fi
  for d in /usr/lib/$ARCH_LIB /lib/$ARCH_LIB /usr/lib64 /usr/lib /usr/local/lib "$KIT/vulkan/usr/lib/$ARCH_LIB" "$KIT/vulkan/lib"; do
    if [ -f "$d/libvulkan.so.1" ]; then
      echo "$d/libvulkan.so.1"
      return
    fi
  done
}

# The driver manifests (ICD JSON) the loader would read; NVIDIA's written here when the driver's
# library is present but its manifest is not (containers often mount the library only).
find_icds() {
  if [ -n "${VK_DRIVER_FILES:-}" ]; then
    echo "$VK_DRIVER_FILES"
    return
  fi
  if [ -n "${VK_ICD_FILENAMES:-}" ]; then
    echo "$VK_ICD_FILENAMES"
    return
  fi
  found=
  for d in /etc/vulkan/icd.d /usr/local/etc/vulkan/icd.d /usr/share/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    for f in "$d"/*.json; do
      [ -f "$f" ] && found=${found:+$found:}$f
    done
  done
  if [ -z "$found" ]; then
    for lib in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
      p=
      if command -v ldconfig >/dev/null 2>&1; then
        p=$(ldconfig -p 2>/dev/null | sed -n "s/^[[:space:]]*$lib (.*x86-64.*) => //p" | head -n 1)
      fi
      [ -z "$p" ] && [ -f "/usr/lib/$ARCH_LIB/$lib" ] && p=/usr/lib/$ARCH_LIB/$lib
      [ -z "$p" ] && [ -f "/usr/lib64/$lib" ] && p=/usr/lib64/$lib
      if [ -n "$p" ]; then
        mkdir -p "$KIT/vulkan"
        printf '{"file_format_version": "1.0.1", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$p" >"$KIT/vulkan/nvidia_icd.json"
        found=$KIT/vulkan/nvidia_icd.json
        break
      fi
    done
  fi
  echo "$found"
}

LOADER_NOTE="No Vulkan loader (libvulkan.so.1) was found. On Debian or Ubuntu either install it
(apt-get install libvulkan1), or without root: './run --vulkan-setup' (runs 'apt-get download
libvulkan1' and unpacks it into $KIT/vulkan), or download the .deb on another machine of the same
distribution, copy it here and run './run --vulkan-setup libvulkan1_*.deb'."
DRIVER_NOTE="No Vulkan driver manifest (ICD JSON) was found in /etc/vulkan/icd.d or /usr/share/vulkan/icd.d,
and no NVIDIA driver library (libGLX_nvidia.so.0) to write one for. With NVIDIA's driver installed, point
VK_ICD_FILENAMES at its nvidia_icd.json; in a container started by the NVIDIA container toolkit, set
NVIDIA_DRIVER_CAPABILITIES=all (or include 'graphics'): 'compute,utility' leaves out the Vulkan driver."

if [ "$ACTION" = setup ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if [ -z "$DEB" ]; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get is not here: download libvulkan1's .deb elsewhere and run './run --vulkan-setup FILE.deb'"
    (cd "$tmp" && apt-get download libvulkan1) || die "'apt-get download libvulkan1' failed (no network or no package lists: try 'apt-get update' first, or copy the .deb in)"
    DEB=$(ls "$tmp"/libvulkan1_*.deb | head -n 1)
  fi
  [ -f "$DEB" ] || die "no such file: $DEB"
  case "$DEB" in /*) ;; *) DEB=$PWD/$DEB ;; esac
  mkdir -p "$KIT/vulkan"
  if command -v dpkg-deb >/dev/null 2>&1; then
    dpkg-deb -x "$DEB" "$KIT/vulkan"
  else
    (cd "$tmp" && ar x "$DEB" && tar -xf data.tar.* -C "$KIT/vulkan") || die "could not unpack $DEB (needs dpkg-deb, or ar and tar)"
  fi
  [ -f "$KIT/vulkan/usr/lib/$ARCH_LIB/libvulkan.so.1" ] || die "$DEB holds no usr/lib/$ARCH_LIB/libvulkan.so.1"
  echo "run: Vulkan loader unpacked to $KIT/vulkan/usr/lib/$ARCH_LIB"
  ACTION=info
fi

if [ "$SWIFTSHADER" = 1 ]; then
  SS=${SWIFTSHADER_DIR:-/usr/lib/chromium}
  [ -f "$SS/vk_swiftshader_icd.json" ] && [ -f "$SS/libvulkan.so.1" ] ||
    die "--swiftshader needs SwiftShader as Debian's chromium ships it ($SS/vk_swiftshader_icd.json and libvulkan.so.1): apt-get install chromium, or set SWIFTSHADER_DIR"
  LOADER=$SS/libvulkan.so.1
  ICDS=$SS/vk_swiftshader_icd.json
  BACKEND=swiftshader
else
  LOADER=$(find_loader)
  ICDS=$(find_icds)
  BACKEND=system
fi

if [ "$ACTION" = info ]; then
  echo "node:          ${NODE:-none} ($([ -n "$NODE" ] && "$NODE" --version))"
  echo "dawn:          $DAWN"
  echo "vulkan loader: ${LOADER:-none}"
  echo "driver (ICD):  ${ICDS:-none}"
  ls /dev/nvidia0 /dev/dri/renderD* 2>/dev/null | sed 's/^/device node:   /' || true
  [ -n "$LOADER" ] || echo "$LOADER_NOTE"
  [ -n "$ICDS" ] || echo "$DRIVER_NOTE"
  exit 0
fi

[ -n "$LOADER" ] || die "$LOADER_NOTE"
[ -n "$ICDS" ] || die "$DRIVER_NOTE"
[ -f "$DAWN" ] || die "Dawn's native module is missing: $DAWN"

# A loader outside the system's library folders (the kit's, SwiftShader's) goes first on the path.
LOADER_DIR=$(dirname "$LOADER")
case "$LOADER_DIR" in
/usr/lib/$ARCH_LIB | /lib/$ARCH_LIB | /usr/lib64 | /usr/lib | /usr/local/lib) ;;
*) LD_LIBRARY_PATH=$LOADER_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ;;
esac
VK_ICD_FILENAMES=$ICDS
VK_DRIVER_FILES=$ICDS
WEBGPU_NLP_BACKEND=$BACKEND
WEBGPU_NLP_KIT=$KIT
WEBGPU_NLP_VK_LOADER=$LOADER
XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
export VK_ICD_FILENAMES VK_DRIVER_FILES WEBGPU_NLP_BACKEND WEBGPU_NLP_KIT WEBGPU_NLP_VK_LOADER XDG_RUNTIME_DIR
[ -n "${LD_LIBRARY_PATH:-}" ] && export LD_LIBRARY_PATH
# Results go to the kit's results/ unless --results names another folder.
if [ "$RESULTS_GIVEN" = 0 ]; then set -- --results "$KIT/results" "$@"; fi
exec "$NODE" "$KIT/bench.mjs" "$@"
