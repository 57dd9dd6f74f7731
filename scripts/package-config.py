#!/usr/bin/env python3
"""Prints the Tauri configuration the bundler reads from src-tauri/ (see scripts/package):
the repository's tauri.conf.json with its paths rebased onto src-tauri, the bundle switched
on, and the Linux packages' runtime dependencies, icons and extra files."""
import json
import pathlib
import shlex
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
ICON_SIZES = [16, 24, 32, 48, 64, 128, 256]

# What the app links at run time (ldd of the binary; cpal speaks PulseAudio's protocol in pure
# Rust, without libpulse) beyond what the Tauri CLI adds by itself (WebKitGTK 4.1, GTK 3 and the
# tray's appindicator library, as Debian packages and as RPM sonames). The RPM names libraries
# by soname, which Fedora and openSUSE both resolve.
DEB_DEPENDS = ["libasound2", "libdbus-1-3", "xdg-utils"]
RPM_DEPENDS = ["libasound.so.2()(64bit)", "libdbus-1.so.3()(64bit)", "xdg-utils"]
METAINFO = "org.rcsoftphone.desktop.metainfo.xml"


def rebased(path: str) -> str:
    return f"../{path}"


def main() -> None:
    config = json.loads((ROOT / sys.argv[1]).read_text())
    config["build"]["frontendDist"] = rebased(config["build"]["frontendDist"])
    # The bundler names the package, its files and the desktop entry after productName:
    # "RC Softphone.desktop" has a space, which xdg-open cannot handle (it never opens a tel:
    # link through it). The entry still shows "RC Softphone" (packaging/linux/main.desktop).
    config["productName"] = "rc-softphone"
    # The release profile keeps line tables for profiling (about 200 MB); a package has no use
    # for them.
    binary = shlex.quote(str(ROOT / "target" / "release" / "softphone"))
    config["build"]["beforeBundleCommand"] = f"strip --strip-debug {binary}"
    files = {f"/usr/share/metainfo/{METAINFO}": rebased(f"packaging/linux/{METAINFO}")}
    # Tauri's own template starts the app without the link it was opened for (no %u):
    # `xdg-open tel:…` would then only bring the window up.
    desktop = rebased("packaging/linux/main.desktop")
    bundle = config.setdefault("bundle", {})
    bundle.update(
        {
            "active": True,
            "targets": ["deb", "rpm"],
            "icon": [rebased(f"icons/{s}x{s}.png") for s in ICON_SIZES] + [rebased("icons/icon.png"), rebased("icons/icon.ico")],
            "category": "Business",
            "shortDescription": "A native desktop softphone for RingCentral",
            "longDescription": "Make and take RingCentral calls from the desktop, with a Rust SIP and WebRTC engine: no browser, no Electron.",
            "publisher": "RC Softphone contributors",
            "copyright": "RC Softphone contributors, MIT licence",
            "license": "MIT",
            "linux": {
                "deb": {"depends": DEB_DEPENDS, "section": "comm", "files": files, "desktopTemplate": desktop},
                "rpm": {"depends": RPM_DEPENDS, "files": files, "desktopTemplate": desktop},
            },
        }
    )
    json.dump(config, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
