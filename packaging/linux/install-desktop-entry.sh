#!/usr/bin/env bash
# Installs a built cncwear bundle with its menu entry and icons (freedesktop), or removes them again.
#
#   bash packaging/linux/install-desktop-entry.sh [--prefix DIR] [BUNDLE_DIR]
#   bash packaging/linux/install-desktop-entry.sh [--prefix DIR] --uninstall
#
# BUNDLE_DIR is a PyInstaller build: the executable cncwear, _internal/ and maybe automl-runtime/
# (default packaging/dist/cncwear). Where things go:
#   a user (default)  the bundle in ~/.local/lib/cncwear, menu entry and icons in ~/.local/share
#   root              the bundle in /opt/cncwear, menu entry and icons in /usr/local/share
#   --prefix DIR      the bundle in DIR/lib/cncwear, menu entry and icons in DIR/share
# Re-running replaces an earlier install. Uninstall with the same user and --prefix as the install.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SIZES=(16 24 32 48 64 128 256)

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { printf 'install-desktop-entry: %s\n' "$*" >&2; exit 1; }

bundle=$ROOT/packaging/dist/cncwear prefix='' uninstall=0
while (($#)); do
    case $1 in
        --prefix) (($# >= 2)) || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) bundle=$1; shift ;;
    esac
done

if [[ -n $prefix ]]; then
    prefix=$(realpath -m -- "$prefix")
    app_dir=$prefix/lib/cncwear data_dir=$prefix/share
elif ((EUID == 0)); then
    app_dir=/opt/cncwear data_dir=/usr/local/share
else
    app_dir=$HOME/.local/lib/cncwear data_dir=${XDG_DATA_HOME:-$HOME/.local/share}
fi
desktop_file=$data_dir/applications/cncwear.desktop
hicolor=$data_dir/icons/hicolor

# Only ever deletes a directory that holds a cncwear bundle.
remove_app_dir() {
    [[ -e $app_dir ]] || return 0
    [[ -x $app_dir/cncwear && -d $app_dir/_internal ]] || die "$app_dir is not a cncwear bundle, not removing it"
    rm -rf -- "$app_dir"
}

refresh_caches() {
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$data_dir/applications" || true
    fi
    # Icon dirs without a theme index or a cache (like ~/.local/share/icons/hicolor) need no cache.
    if [[ -f $hicolor/index.theme || -f $hicolor/icon-theme.cache ]] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -q -t -f "$hicolor" || true
    fi
}

if ((uninstall)); then
    rm -f -- "$desktop_file" "$hicolor/scalable/apps/cncwear.svg"
    for n in "${SIZES[@]}"; do rm -f -- "$hicolor/${n}x${n}/apps/cncwear.png"; done
    remove_app_dir
    refresh_caches
    echo "removed cncwear from $app_dir and $data_dir"
    exit 0
fi

[[ -d $bundle ]] || die "no bundle at $bundle (build it first: packaging/build.sh)"
bundle=$(realpath -- "$bundle")
[[ -x $bundle/cncwear && -d $bundle/_internal ]] || die "$bundle is not a cncwear bundle (no executable cncwear and _internal/)"
icons=$bundle/_internal/resources/icons
[[ -f $icons/cncwear.svg ]] || icons=$ROOT/resources/icons
[[ -f $icons/cncwear.svg ]] || die "no icons in the bundle or $icons (run packaging/make_icons.py)"
# These would need escaping in the desktop entry's Exec= line.
[[ $app_dir != *[\"\`\$\\%]* ]] || die "the install path must not contain \" \` \$ \\ or %"

if [[ $bundle != "$(realpath -m -- "$app_dir")" ]]; then
    remove_app_dir
    mkdir -p -- "$(dirname -- "$app_dir")"
    cp -R -- "$bundle" "$app_dir"
fi

for n in "${SIZES[@]}"; do
    install -D -m 644 -- "$icons/cncwear-$n.png" "$hicolor/${n}x${n}/apps/cncwear.png"
done
install -D -m 644 -- "$icons/cncwear.svg" "$hicolor/scalable/apps/cncwear.svg"

mkdir -p -- "$data_dir/applications"
while IFS= read -r line; do
    case $line in
        TryExec=*) line="TryExec=$app_dir/cncwear" ;;
        Exec=*) line="Exec=\"$app_dir/cncwear\" gui" ;;
    esac
    printf '%s\n' "$line"
done <"$HERE/cncwear.desktop" >"$desktop_file"
chmod 644 -- "$desktop_file"

refresh_caches
echo "installed cncwear in $app_dir; menu entry $desktop_file"
