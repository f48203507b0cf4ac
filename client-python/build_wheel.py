#!/usr/bin/python3
"""Builds the Synod Python package: a wheel holding the modules generated from synod.proto.

    /usr/bin/python3 client-python/build_wheel.py [OUT_DIR]      (default: client-python/dist)

The wheel is pure Python (py3-none-any) and is named after the project's version in the root
pom.xml, so the stubs are versioned with the proto they were generated from
(0.1.0-SNAPSHOT becomes 0.1.0.dev0). It contains synod/v1/synod_pb2.py (messages) and
synod/v1/synod_pb2_grpc.py (the Synod and Watch stubs), and needs grpcio and protobuf at run
time: `pip install dist/synod_api-*.whl`, or put the wheel itself on PYTHONPATH (a pure-Python
wheel is importable as a zip file; run-example.sh does that).

Generation uses protoc and grpc_python_plugin from PATH (Debian: protobuf-compiler,
protobuf-compiler-grpc), or `python -m grpc_tools.protoc` when SYNOD_PROTOC=grpc_tools. The
wheel is written with the standard library alone (no pip, setuptools or wheel needed): a wheel
is a zip file with a METADATA, a WHEEL and a RECORD of every file's sha256.
"""
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROTO_ROOT = os.path.join(ROOT, "proto", "src", "main", "proto")
PROTO = "synod/v1/synod.proto"
NAME = "synod_api"
# Reproducible archives: every entry gets this timestamp (zip cannot store dates before 1980).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def project_version():
    """The root pom's version (the first <version> after synod-parent), as a PEP 440 version."""
    with open(os.path.join(ROOT, "pom.xml"), encoding="utf-8") as f:
        pom = f.read()
    m = re.search(r"<artifactId>synod-parent</artifactId>\s*<version>([^<]+)</version>", pom)
    if not m:
        sys.exit("build_wheel: no synod-parent version in pom.xml")
    v = m.group(1)
    return v[: -len("-SNAPSHOT")] + ".dev0" if v.endswith("-SNAPSHOT") else v


def generate(out):
    if os.environ.get("SYNOD_PROTOC") == "grpc_tools":
        cmd = [sys.executable, "-m", "grpc_tools.protoc"]
        plugin = []
    else:
        protoc = shutil.which("protoc")
        plugin_path = shutil.which("grpc_python_plugin")
        if not protoc or not plugin_path:
            sys.exit("build_wheel: needs protoc and grpc_python_plugin on PATH "
                     "(Debian: apt-get install protobuf-compiler protobuf-compiler-grpc), "
                     "or SYNOD_PROTOC=grpc_tools with grpcio-tools installed")
        cmd = [protoc]
        plugin = ["--plugin=protoc-gen-grpc_python=" + plugin_path]
    subprocess.run(cmd + plugin + ["-I", PROTO_ROOT, "--python_out=" + out, "--grpc_python_out=" + out, PROTO],
                   check=True)
    for package in ("synod", "synod/v1"):
        with open(os.path.join(out, package, "__init__.py"), "w", encoding="utf-8") as f:
            f.write('"""Generated from %s; do not edit."""\n' % PROTO if package == "synod/v1" else "")


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def build(out_dir):
    version = project_version()
    dist_info = "%s-%s.dist-info" % (NAME, version)
    files = {}
    with tempfile.TemporaryDirectory() as gen:
        generate(gen)
        for dirpath, _, names in os.walk(gen):
            for n in sorted(names):
                if n.endswith(".py"):
                    full = os.path.join(dirpath, n)
                    with open(full, "rb") as f:
                        files[os.path.relpath(full, gen).replace(os.sep, "/")] = f.read()
    files[dist_info + "/METADATA"] = (
        "Metadata-Version: 2.1\n"
        "Name: synod-api\n"
        "Version: %s\n"
        "Summary: Synod's gRPC contract for Python: the messages and stubs generated from synod.proto\n"
        "Requires-Python: >=3.8\n"
        "Requires-Dist: grpcio>=1.51\n"
        "Requires-Dist: protobuf>=3.20\n" % version).encode()
    files[dist_info + "/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: synod build_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n").encode()
    files[dist_info + "/top_level.txt"] = b"synod\n"
    record = [record_line(n, d) for n, d in sorted(files.items())] + [dist_info + "/RECORD,,"]
    files[dist_info + "/RECORD"] = ("\n".join(record) + "\n").encode()

    os.makedirs(out_dir, exist_ok=True)
    wheel = os.path.join(out_dir, "%s-%s-py3-none-any.whl" % (NAME, version))
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in sorted(files.items()):
            z.writestr(zipfile.ZipInfo(n, ZIP_TIME), d, zipfile.ZIP_DEFLATED)
    return wheel


if __name__ == "__main__":
    print(build(os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(HERE, "dist")))
