"""Vendor Vega, Vega-Lite and Vega-Embed from their npm packages and build .dvc/offline.html, the
page template `dvc plots show` fills (the project's `plots.html_template`): the three libraries
inlined, so the plots draw with no network. Run only to change the pinned versions:

    python stages/web/vendor.py          # needs npm and the npm registry

Each package is checked against its pinned sha512 before one byte of it is read, and only the
named files are taken from it.
"""

import base64
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
LICENSES = "LICENSES.md"
PAGE = HERE.parent.parent / ".dvc" / "offline.html"
PLACEHOLDERS = ("{plot_divs}", "{refresh_tag}", "{scripts}")  # what DVC replaces in a template
MAX_BYTES = 8 << 20

PACKAGES = (  # (name, version, npm integrity, the file taken from package/build/, licence file or None)
    ("vega", "5.33.1", "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
     "vega.min.js", None),
    ("vega-lite", "5.23.0",
     "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
     "vega-lite.min.js", "LICENSE"),
    ("vega-embed", "6.29.0",
     "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
     "vega-embed.min.js", "LICENSE"),
)

BUNDLED = """vega-embed.min.js also bundles its own dependencies, each under its licence as published on npm:
vega-themes, vega-tooltip, vega-interpreter and vega-schema-url-parser (BSD-3-Clause, the same
holder as above), fast-json-patch (MIT, (c) 2017-2021 Joachim Wester, whose notice the file keeps),
json-stringify-pretty-compact (MIT), semver (ISC) and tslib (0BSD)."""

HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{refresh_tag}
<title>DVC plots</title>
<!-- %s, inlined from their npm packages (BSD-3-Clause, University of Washington Interactive Data
Lab; the licence texts are in stages/web/vendor/LICENSES.md) so that this page draws with no
network. Built by stages/web/vendor.py; DVC puts the plots where the body says. -->
"""
TAIL = """<style>
body { font-family: sans-serif; margin: 1em; }
body > div { margin: 0 0 2em; }
table { border-spacing: 15px; }
</style>
</head>
<body>
{plot_divs}
</body>
</html>
"""


def integrity(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def member(archive, name):
    """One regular file of a checked package, by its exact name."""
    info = archive.getmember(f"package/{name}")
    if not info.isfile() or info.size > MAX_BYTES:
        raise ValueError(f"package/{name}: not a regular file under {MAX_BYTES} bytes")
    return archive.extractfile(info).read()


def fetch(name, version, expected, folder):
    """The package's tarball from the npm registry, refused unless its sha512 is the pinned one."""
    subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(folder)], check=True,
                   capture_output=True)
    data = (Path(folder) / f"{name}-{version}.tgz").read_bytes()
    if integrity(data) != expected:
        raise ValueError(f"{name}@{version}: integrity {integrity(data)}, pinned {expected}")
    return data


def vendor():
    """Write stages/web/vendor/: the three builds and their licences."""
    licences = ["# Licences of the vendored files", ""]
    with tempfile.TemporaryDirectory() as folder:
        for name, version, expected, build, licence in PACKAGES:
            with tarfile.open(fileobj=io.BytesIO(fetch(name, version, expected, folder)), mode="r:gz") as archive:
                (VENDOR / build).write_bytes(member(archive, f"build/{build}"))
                text = member(archive, licence).decode() if licence else (
                    "BSD-3-Clause, as its package.json says; the package carries no licence file. The same "
                    "holder's text, as in vega-lite's package, applies.\n")
            licences += [f"## {build}: {name} {version} (npm, {expected})", "", "```", text.strip(), "```", ""]
    licences += [BUNDLED, ""]
    (VENDOR / LICENSES).write_text("\n".join(licences))


def offline_page():
    """The template text: the vendored scripts inlined, DVC's placeholders for the plots."""
    names = ", ".join(f"{'-'.join(part.capitalize() for part in name.split('-'))} {version}"
                      for name, version, *_ in PACKAGES)
    scripts = []
    for _, _, _, build, _ in PACKAGES:
        code = (VENDOR / build).read_text(encoding="utf8")
        if "</script" in code.lower() or any(p in code for p in PLACEHOLDERS):
            raise ValueError(f"{build} holds text that would break the page")
        scripts.append(f"<script>\n{code}\n</script>\n")
    return HEAD % names + "".join(scripts) + TAIL


def main():
    if "--page-only" not in sys.argv:
        vendor()
    PAGE.write_text(offline_page(), encoding="utf8")
    print(f"{PAGE}: {PAGE.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
