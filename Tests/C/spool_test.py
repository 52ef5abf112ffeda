#!/usr/bin/env python3
"""The spool with real processes (spool_process.c) and a real receiver:

  1. an outage longer than the memory queue: 500,000 events with
     queue.max_events = 10,000 and the receiver down, then up: all arrive,
     each client's in order;
  2. a clean stop with events queued, then a new process on the same dir:
     the old events arrive first, then the new ones, each client's in order;
  3. kill -9 of a process that emitted with durability = crash: every event
     spool_written counted before the kill arrives after a restart;
  4. two processes on one dir: the second's init names the first's pid;
  5. a dir the process may not write (run as nobody): a clear init error;
  6. a full disk (a 1 MB tmpfs): events that do not fit are counted as
     dropped, the process neither crashes nor hangs, and what fit arrives;
  7. a corrupt spool file: moved aside, and the process starts.

    spool_test.py PATH/TO/spool_process [TEST...]
"""
import os, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Support"))
from e2e import Checks, CountingReceiver as Receiver, free_port  # noqa: E402 (the shared end-to-end helpers)

program = sys.argv[1]
only = set(sys.argv[2:])
check = Checks()



# A cross-built program runs under this emulator (qemu-aarch64): SWH_EMULATOR, set by ctest.
emulator = os.environ.get("SWH_EMULATOR", "").split()


def start(port, directory, durability, queue_max, count, clients, then, first=0, rate=0, user=None, env=None, program_path=None):
    command = emulator + [program_path or program, str(port), directory, durability, str(queue_max), str(count), str(clients), then,
               str(first), str(rate)]
    if user:
        command = ["setpriv", "--reuid=%s" % user, "--regid=nogroup", "--clear-groups"] + command
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def read_until(process, prefix, timeout=300):
    """Lines of stdout until one starts with prefix (returned), or None at EOF."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            return None
        if line.startswith(prefix):
            return line.strip()
    return None


def stats(line):
    return {k: int(v) for k, v in (part.split("=") for part in line.split()[2:])}


def finish(process, timeout=300):
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        check(False, "the process did not finish within %d s" % timeout)
    return process.returncode, out, err


def in_order(by_client, expected):
    """Each client's numbers are exactly 0..n-1 for its expected n."""
    return {c: v for c, v in by_client.items() if v != list(range(expected.get(c, -1)))}


def test_outage():
    """500,000 events, memory for 10,000, the receiver down, then up."""
    directory, port = tempfile.mkdtemp(prefix="spool-outage-"), free_port()
    count, clients = 500_000, 100
    # The disk keeps up with 100,000 events/s natively (B14: about 190,000); under
    # qemu the spool thread runs many times slower, so the emulated run paces lower.
    process = start(port, directory, "clean", 10_000, count, clients, "deliver", rate=20_000 if emulator else 100_000)
    emitted = read_until(process, "stats emitted")
    check(emitted is not None, "outage: the process emitted")
    s = stats(emitted)
    print("outage: while the receiver is down: " + emitted, flush=True)
    check(s["matched"] == count and s["dropped"] == 0, "outage: every event accepted (%s)" % s)
    check(s["queued"] + s["in_flight"] <= 10_000 + 4 * 500 and s["spooled"] >= count - 12_000, "outage: the rest is in the spool (%s)" % s)
    receiver = Receiver(port)
    code, out, err = finish(process)
    receiver.stop()
    end = stats(next(l for l in out.splitlines() if l.startswith("stats end")))
    print("outage: after recovery: %s; %d requests" % (end, receiver.requests), flush=True)
    check(code == 0 and end["delivered"] == count and end["dropped"] == 0, "outage: all delivered (%s)" % end)
    wrong = in_order(receiver.by_client, {"c%d" % c: count // clients for c in range(clients)})
    check(len(receiver.by_client) == clients and not wrong, "outage: each client's events once and in order (%d wrong)" % len(wrong))
    # The backlog's disk space is given back once it is delivered.
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    print("outage: the spool's files after the process: %d bytes (%d at the peak)" % (size, s["bytes"]), flush=True)
    check(size < 1 << 20, "outage: the spool shrank after delivering (%d bytes)" % size)
    shutil.rmtree(directory)


def test_restart():
    """A clean stop with events queued and spooled; the next process sends them first."""
    directory, port = tempfile.mkdtemp(prefix="spool-restart-"), free_port()
    code, out, err = finish(start(port, directory, "clean", 5_000, 20_000, 20, "stop"))
    check(code == 0 and "kept in the spool" in err, "restart: the first process kept its events (%s)" % err[-500:])
    receiver = Receiver(port)
    code, out, err = finish(start(port, directory, "clean", 5_000, 2_000, 20, "deliver", first=1000))
    receiver.stop()
    start_line = stats(next(l for l in out.splitlines() if l.startswith("stats start")))
    check(start_line["replayed"] == 20_000, "restart: 20,000 replayed (%s)" % start_line)
    wrong = in_order(receiver.by_client, {"c%d" % c: 1100 for c in range(20)})
    check(code == 0 and len(receiver.by_client) == 20 and not wrong,
          "restart: old then new, each client's in order (%d wrong, e.g. %s)" % (len(wrong), str(next(iter(wrong.items()), ""))[:200]))
    shutil.rmtree(directory)


def test_kill():
    """kill -9 with durability = crash: every counted (synced) event survives."""
    directory, port = tempfile.mkdtemp(prefix="spool-kill-"), free_port()
    clients = 10
    process = start(port, directory, "crash", 10_000, 200_000, clients, "sync", rate=200_000)
    synced = 0
    while synced < 50_000:
        line = read_until(process, "synced")
        if line is None:
            break
        synced = int(line.split()[1])
    # Killed while it emits: what comes after the last sync point may or may not survive.
    time.sleep(0.013)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    check(synced >= 50_000, "kill: the process reached a sync point (%d)" % synced)
    receiver = Receiver(port)
    code, out, err = finish(start(port, directory, "crash", 10_000, 0, clients, "deliver"))
    receiver.stop()
    replayed = stats(next(l for l in out.splitlines() if l.startswith("stats start")))["replayed"]
    print("kill: synced %d before kill -9, %d replayed, %d received" % (synced, replayed, receiver.total()), flush=True)
    per_client = synced // clients
    short = {c: len(v) for c, v in receiver.by_client.items() if len(v) < per_client}
    gaps = {c: v for c, v in receiver.by_client.items() if v != list(range(len(v)))}
    check(code == 0 and len(receiver.by_client) == clients and not short, "kill: every synced event arrived (%s short)" % short)
    check(not gaps, "kill: each client's events in order, without gaps")
    check(receiver.total() == replayed, "kill: all replayed events delivered")
    shutil.rmtree(directory)


def test_two_processes():
    directory, port = tempfile.mkdtemp(prefix="spool-two-"), free_port()
    first = start(port, directory, "clean", 1000, 0, 1, "hold")
    check(read_until(first, "stats emitted") is not None, "two: the first process started")
    code, out, err = finish(start(port, directory, "clean", 1000, 0, 1, "stop"))
    expected = "init failed: spool_process.conf:8:16: webhook.spool.dir: the spool directory %s is in use by another process (pid %d); give each broker its own spool.dir" % (directory, first.pid)
    check(code == 3 and out.strip() == expected, "two: %r" % out.strip())
    first.kill()
    first.communicate()
    shutil.rmtree(directory)


def test_not_writable():
    if os.getuid() != 0:
        directory = tempfile.mkdtemp(prefix="spool-ro-")
        os.chmod(directory, 0o500)
        user = None
    else:
        # Root may write anywhere: run the process as nobody on a root-owned dir. nobody may not
        # reach the build tree (a clone under a 0700 directory), so the program and the library
        # are copied where it can.
        directory = tempfile.mkdtemp(prefix="spool-ro-")
        os.chmod(directory, 0o755)
        user = "nobody"
    env = None
    command = program
    if user:
        runnable = tempfile.mkdtemp(prefix="spool-nobody-")
        os.chmod(runnable, 0o755)
        library = os.environ.get("SWH_LIBRARY") or next(line.split("=>")[1].split()[0] for line in subprocess.run(
            ["ldd", program], capture_output=True, text=True).stdout.splitlines() if "libswiftwebhook.so.1" in line)
        shutil.copy(library, os.path.join(runnable, "libswiftwebhook.so.1"))
        command = shutil.copy(program, os.path.join(runnable, "spool_process"))
        env = dict(os.environ, LD_LIBRARY_PATH=runnable)
    code, out, err = finish(start(free_port(), directory, "clean", 1000, 0, 1, "stop", user=user, env=env, program_path=command))
    if user:
        shutil.rmtree(runnable)
    expected = "init failed: spool_process.conf:8:16: webhook.spool.dir: cannot use the spool directory %s: %s/swiftwebhook-spool.lock: Permission denied" % (directory, directory)
    check(code == 3 and out.strip() == expected, "not writable: %r %r" % (out.strip(), err[-300:]))
    shutil.rmtree(directory)


def tiny_disk_command():
    """A command prefix that runs a shell with a 1 MB tmpfs at $SPOOL_MNT, or None."""
    mount = "mount -t tmpfs -o size=1m tmpfs \"$SPOOL_MNT\""
    probe = tempfile.mkdtemp(prefix="spool-mnt-")
    for prefix in (["sh", "-c"], ["unshare", "--mount", "sh", "-c"], ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c"]):
        try:
            ok = subprocess.run(prefix + [mount + " && umount \"$SPOOL_MNT\""], env=dict(os.environ, SPOOL_MNT=probe),
                                capture_output=True).returncode == 0
        except OSError:
            ok = False
        if ok:
            os.rmdir(probe)
            return prefix, mount
    os.rmdir(probe)
    return None


def test_full_disk():
    found = tiny_disk_command()
    if found is None:
        print("full disk: skipped (cannot mount a tmpfs here); spool.max_bytes is tested by the Swift suite", flush=True)
        return
    prefix, mount = found
    mountpoint, port = tempfile.mkdtemp(prefix="spool-full-"), free_port()
    script = "%s && exec \"$@\"" % mount
    command = prefix + [script, "sh"] + emulator + [program, str(port), mountpoint + "/spool", "clean", "1000", "50000", "10", "hold", "0", "50000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, SPOOL_MNT=mountpoint))
    emitted = read_until(process, "stats emitted", timeout=120)
    check(emitted is not None, "full disk: the process emitted and did not crash")
    if emitted:
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
    code, out, err = finish(process, timeout=60)
    if emitted:
        s = stats(emitted)
        print("full disk: " + emitted, flush=True)
        check(s["dropped"] > 0 and s["matched"] == 50_000, "full disk: events that do not fit are counted as dropped (%s)" % s)
        check("database or disk is full" in err or "disk I/O error" in err, "full disk: the log says why (%s)" % err[-400:])
    if os.path.ismount(mountpoint):
        subprocess.run(["umount", mountpoint])
    shutil.rmtree(mountpoint, ignore_errors=True)


def test_corrupt():
    directory, port = tempfile.mkdtemp(prefix="spool-corrupt-"), free_port()
    with open(os.path.join(directory, "swiftwebhook-spool.db"), "wb") as f:
        f.write(b"this is not a database" * 300)
    receiver = Receiver(port)
    code, out, err = finish(start(port, directory, "clean", 1000, 100, 2, "deliver"))
    receiver.stop()
    check(code == 0 and "was corrupt; moved aside to %s/swiftwebhook-spool.db.corrupt-" % directory in err, "corrupt: moved aside (%s)" % err[-300:])
    check(receiver.total() == 100, "corrupt: the new events are delivered (%d)" % receiver.total())
    check(any(name.startswith("swiftwebhook-spool.db.corrupt-") for name in os.listdir(directory)), "corrupt: the old file is kept for a look")
    shutil.rmtree(directory)


tests = {"outage": test_outage, "restart": test_restart, "kill": test_kill, "two": test_two_processes,
         "not_writable": test_not_writable, "full_disk": test_full_disk, "corrupt": test_corrupt}
for name, test in tests.items():
    if not only or name in only:
        test()
sys.exit(check.summary("spool_test"))
