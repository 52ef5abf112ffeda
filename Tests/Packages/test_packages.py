"""The Debian packages, as an operator uses them: lintian, apt-get install,
a C broker built from the installed files, the installed Mosquitto plugin
and NanoMQ delivering to a real receiver, the arm64 library installed beside
the amd64 one and used under qemu-aarch64, and a purge that leaves nothing.

    SWH_DEBS=build/debs pytest Tests/Packages      (scripts/test-packages makes them)

The tests run in order and share the machine's package state: each needs
the install test before it. Whatever happens, the packages are purged at
the end.
"""
import contextlib
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEBS = os.path.abspath(os.environ.get("SWH_DEBS", os.path.join(ROOT, "build", "debs")))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Support"))
from e2e import Receiver, free_port, listening, wait_until  # noqa: E402

SUDO = [] if os.geteuid() == 0 else ["sudo"]
HEADER = open(os.path.join(ROOT, "include", "swiftwebhook.h")).read()
VERSION = re.search(r'#define SWIFTWEBHOOK_VERSION "([^"]+)"', HEADER).group(1)
ABI = int(re.search(r"#define SWIFTWEBHOOK_ABI_VERSION (\d+)", HEADER).group(1))
REVISION = VERSION + "-1"
AMD64 = ["libswiftwebhook1", "libswiftwebhook1-dbgsym", "libswiftwebhook-dev", "mosquitto-swiftwebhook",
         "webhookctl", "nanomq-swiftwebhook"]
ARM64 = ["libswiftwebhook1", "libswiftwebhook-dev"]
ARM64_RUN = os.environ.get("SWH_PACKAGES_ARM64", "1") == "1"


def deb(name, arch):
    found = glob.glob(os.path.join(DEBS, "%s_*_%s.deb" % (name, arch)))
    assert len(found) == 1, "expected one %s package for %s in %s, found %s" % (name, arch, DEBS, found)
    return found[0]


def every_deb():
    return [deb(n, "amd64") for n in AMD64] + ([deb(n, "arm64") for n in ARM64] if ARM64_RUN else [])


def run(*args, **kwargs):
    kwargs.setdefault("check", True)
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600, **kwargs)


def system_env(**extra):
    """The environment without what would point the loader away from the installed files."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "QEMU_LD_PREFIX")}
    env.update(extra)
    return env


def demo_config(tmp_path, receiver):
    """The demo's NanoMQ config (brokers/nanomq/demo.conf.in) on a free MQTT port; returns (path, port)."""
    mqtt = free_port()
    conf = tmp_path / "nanomq.conf"
    with open(os.path.join(ROOT, "brokers", "nanomq", "demo.conf.in")) as f:
        conf.write_text(f.read().replace("@MQTT_PORT@", str(mqtt)).replace("@HTTP_PORT@", str(receiver.port))
                        .replace("@LOG_DIR@", str(tmp_path)))
    return conf, mqtt


@contextlib.contextmanager
def nanomq(command, tmp_path, receiver, listen_timeout=15):
    """A packaged NanoMQ (`command` runs its binary) with the demo's config, listening; yields its MQTT
    port. Afterwards it is stopped and its log must say the library delivered its webhook."""
    conf, mqtt = demo_config(tmp_path, receiver)
    broker = subprocess.Popen(command + ["start", "--conf", str(conf)], cwd=tmp_path,
                              env=system_env(NANOMQ_PID_FILE=str(tmp_path / "nanomq.pid")),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: listening(mqtt), listen_timeout), "nanomq did not listen"
        yield mqtt
    finally:
        broker.terminate()
        broker.wait(timeout=60)
    log = (tmp_path / "nanomq.log").read_text()
    assert "webhook: delivered by libswiftwebhook %s" % VERSION in log, log[-2000:]


def installed(package):
    result = run("dpkg-query", "-W", "-f=${Status} ${Version}", package, check=False)
    return result.stdout if "install ok installed" in result.stdout else None


def purge():
    """Purges every package of ours dpkg knows in any state (a failed
    install leaves them unpacked or half-configured)."""
    listing = run("dpkg-query", "-W", "-f=${binary:Package} ${db:Status-Abbrev}\n", *AMD64,
                  *[n + ":arm64" for n in ARM64], check=False).stdout
    names = [line.split()[0] for line in listing.splitlines() if len(line.split()) > 1 and line.split()[1] not in ("un", "pn")]
    if names:
        run(*SUDO, "dpkg", "--purge", *names)


@pytest.fixture(scope="module", autouse=True)
def leave_the_machine_clean():
    purge()  # a run that was killed may have left them
    yield
    purge()


def test_lintian_finds_no_errors():
    # Warnings are explained in docs/packages.md; an error fails.
    result = run("lintian", "--no-tag-display-limit", *sorted(glob.glob(os.path.join(DEBS, "*.deb"))), check=False)
    tags = [line for line in result.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    print("\n".join(tags))
    assert not [t for t in tags if t.startswith("E: ")], result.stdout
    explained = open(os.path.join(ROOT, "docs", "packages.md")).read()
    for tag in {t.split()[2] for t in tags}:
        assert tag in explained, "lintian warns %s, which docs/packages.md does not explain" % tag


def test_the_packages_install_with_apt_beside_each_other():
    debs = every_deb()
    run(*SUDO, "apt-get", "install", "-y", "--no-install-recommends", *debs,
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    for name in AMD64:
        assert installed(name), name
    if ARM64_RUN:
        for name in ARM64:
            assert installed(name + ":arm64"), name + ":arm64 (Multi-Arch: same, beside amd64)"


def test_versions_agree_header_package_soname_and_run_time(tmp_path):
    assert installed("libswiftwebhook1:amd64").split()[-1] == REVISION
    lib = "/usr/lib/x86_64-linux-gnu/libswiftwebhook.so.%s" % VERSION
    assert os.path.isfile(lib)
    soname = re.search(r"SONAME.*\[(.*)\]", run("readelf", "-d", lib).stdout).group(1)
    assert soname == "libswiftwebhook.so.%d" % ABI
    # The symbols file names the package and the versioned exports.
    symbols = run("dpkg-query", "--control-show", "libswiftwebhook1:amd64", "symbols").stdout
    assert symbols.startswith("libswiftwebhook.so.%d libswiftwebhook1 #MINVER#" % ABI)
    assert " webhook_emit@SWIFTWEBHOOK_1 1.0.0" in symbols
    # Installed Depends name what the library opens at run time.
    depends = run("dpkg-query", "-W", "-f=${Depends}", "libswiftwebhook1:amd64").stdout
    for needed in ("libnng1 (>= 1.5.2)", "libmbedcrypto7", "libsqlite3-0", "libc6"):
        assert needed in depends
    assert run("pkg-config", "--modversion", "swiftwebhook").stdout.strip() == VERSION


def build_broker(tmp_path, cc="cc", pkg_config_env=None):
    env = dict(os.environ, **(pkg_config_env or {}))
    flags = run("pkg-config", "--cflags", "--libs", "swiftwebhook", env=env).stdout.split()
    program = str(tmp_path / "deliver")
    run(cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-o", program,
        os.path.join(ROOT, "Tests", "Packages", "deliver.c"), *flags)
    return program


def test_a_c_broker_built_with_pkg_config_delivers(tmp_path):
    program = build_broker(tmp_path)
    assert "NEEDED" in run("readelf", "-d", program).stdout
    assert "RUNPATH" not in run("readelf", "-d", program).stdout and "RPATH" not in run("readelf", "-d", program).stdout
    receiver = Receiver()
    try:
        env = system_env()
        out = run(program, "http://127.0.0.1:%d/hook" % receiver.port, "50", env=env).stdout
        assert out.strip() == "libswiftwebhook %s abi %d" % (VERSION, ABI)
        bodies = receiver.bodies()
        assert len(bodies) == 50
        assert sorted(b["payload"] for b in bodies) == sorted("package %d" % i for i in range(50))
    finally:
        receiver.stop()
    # The loader found the installed file.
    maps = run("sh", "-c", "LD_DEBUG=libs %s http://127.0.0.1:1/ 1 2>&1 || true" % program).stdout
    assert re.search(r"calling init: (/usr)?/lib/x86_64-linux-gnu/libswiftwebhook\.so\.1", maps), maps


def test_gdb_finds_the_debug_info_by_build_id():
    lib = "/usr/lib/x86_64-linux-gnu/libswiftwebhook.so.1"
    build_id = re.search(r"Build ID: (\w+)", run("readelf", "-n", lib).stdout).group(1)
    debug = "/usr/lib/debug/.build-id/%s/%s.debug" % (build_id[:2], build_id[2:])
    assert os.path.isfile(debug), "libswiftwebhook1-dbgsym holds %s" % debug
    if shutil.which("gdb"):
        # Sources and lines of the C and the Swift code, from the .debug file.
        out = run("gdb", "-nx", "-batch", "-ex", "info line cbind_load", "-ex", "info functions ^webhook_emit$",
                  lib).stdout
        assert 'of "Sources/CBinding/cbinding.c"' in out, out
        assert "File Sources/SwiftWebhook/EventConversion.swift:" in out, out


def test_the_installed_mosquitto_plugin_delivers(tmp_path):
    plugin = "/usr/lib/x86_64-linux-gnu/mosquitto/mosquitto_swiftwebhook.so"
    assert os.path.isfile(plugin)
    env = system_env(MOSQUITTO_PLUGIN=plugin)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             os.path.join(ROOT, "brokers", "mosquitto", "tests"), "-k", "every_encoding"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0 and "3 passed" in result.stdout, result.stdout + result.stderr


def test_the_nanomq_package_delivers_the_demos_events(tmp_path):
    assert os.path.isfile("/etc/nanomq.conf") and os.path.isfile("/lib/systemd/system/nanomq.service")
    receiver = Receiver()
    try:
        with nanomq(["/usr/bin/nanomq"], tmp_path, receiver) as mqtt:
            sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mqtt), "-V", "mqttv5", "-i", "bob-sub",
                                    "-u", "bob", "-q", "1", "-t", "demo/#", "-C", "1", "-W", "30"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert wait_until(lambda: any(b["action"] == "client_subscribe" for b in receiver.bodies()))
            run("mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt), "-i", "alice-pub", "-u", "alice", "-q", "1",
                "-t", "demo/greeting", "-m", "hello from the package")
            sub.wait(timeout=60)
            wanted = {"client_connack", "client_subscribe", "message_publish", "message_delivered", "message_acked",
                      "client_disconnected"}
            assert wait_until(lambda: wanted <= {b["action"] for b in receiver.bodies()}, 30), receiver.bodies()
    finally:
        receiver.stop()


def test_webhookctl_checks_a_config(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text('webhook {\n  url = "http://127.0.0.1:1/hook"\n  body.encoding = base63\n}\n')
    result = run("/usr/bin/webhookctl", "check", str(conf), check=False)
    assert result.returncode != 0 and "bad.conf:3:" in result.stdout + result.stderr
    assert run("/usr/bin/webhookctl", "--version").stdout.strip().endswith(VERSION)


@pytest.mark.skipif(not ARM64_RUN, reason="SWH_PACKAGES_ARM64=0")
def test_an_arm64_program_loads_the_installed_arm64_library_under_qemu(tmp_path):
    assert installed("libswiftwebhook1:arm64").split()[-1] == REVISION
    program = build_broker(tmp_path, cc="aarch64-linux-gnu-gcc",
                           pkg_config_env={"PKG_CONFIG_LIBDIR": "/usr/lib/aarch64-linux-gnu/pkgconfig"})
    assert "AArch64" in run("readelf", "-h", program).stdout
    receiver = Receiver()
    try:
        env = system_env()
        out = run("qemu-aarch64", program, "http://127.0.0.1:%d/hook" % receiver.port, "20", env=env).stdout
        assert out.strip() == "libswiftwebhook %s abi %d" % (VERSION, ABI)
        assert sorted(b["payload"] for b in receiver.bodies()) == sorted("package %d" % i for i in range(20))
        trace = run("qemu-aarch64", "-E", "LD_DEBUG=libs", program, "http://127.0.0.1:1/", "1", env=env,
                    check=False).stderr
        # (/lib is /usr/lib on a merged-/usr system.)
        assert re.search(r"calling init: (/usr)?/lib/aarch64-linux-gnu/libswiftwebhook\.so\.1", trace), trace
    finally:
        receiver.stop()


@pytest.mark.skipif(not ARM64_RUN, reason="SWH_PACKAGES_ARM64=0")
def test_the_arm64_nanomq_package_serves_a_client_under_qemu(tmp_path):
    # nanomq-swiftwebhook:arm64 cannot install beside the amd64 one (both
    # are /usr/bin/nanomq), so its files are unpacked and its binary run
    # under qemu-aarch64 with the installed libswiftwebhook1:arm64.
    package = deb("nanomq-swiftwebhook", "arm64")
    root = tmp_path / "root"
    run("dpkg-deb", "-x", package, str(root))
    binary = str(root / "usr" / "bin" / "nanomq")
    assert "AArch64" in run("readelf", "-h", binary).stdout
    receiver = Receiver()
    try:
        with nanomq(["qemu-aarch64", binary], tmp_path, receiver, listen_timeout=120) as mqtt:
            run("mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt), "-i", "arm64-pub", "-q", "1", "-t", "demo/arm64",
                "-m", "hello from arm64")
            publishes = lambda: [b for b in receiver.bodies() if b["action"] == "message_publish"]
            assert wait_until(lambda: publishes(), 60)
            assert publishes()[0]["payload"] == "hello from arm64" and publishes()[0]["from_client_id"] == "arm64-pub"
    finally:
        receiver.stop()


def test_purge_leaves_nothing_behind():
    files = []
    for path in every_deb():
        for line in run("dpkg-deb", "-c", path).stdout.splitlines():
            name = line.split()[5].lstrip(".")
            if not line.startswith("d"):
                files.append(name)
    purge()
    for name in AMD64:
        assert not installed(name), name
    if ARM64_RUN:
        for name in ARM64:
            assert not installed(name + ":arm64"), name
    left = [f for f in files if os.path.lexists(f)]
    assert not left, "left behind: %s" % left
    assert not os.path.exists("/etc/nanomq.conf")
    assert not glob.glob("/usr/lib/*/libswiftwebhook*")
