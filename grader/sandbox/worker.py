"""The untrusted side of the sandbox: runs a submission's functions for the grader.

This file is a standalone script. It is copied into the worker's scratch directory with
``wire.py`` (the value codec) and run there, inside bubblewrap when available, by
:mod:`practicum.grader.sandbox.backend`. It must not import anything else from the course:
it holds no test code, no reference solution and no grading state; it only imports the
submission (a copy of it), calls what it is asked to call, and sends the results back as
plain data. That is also why it is one file of about 550 lines: the set-up steps below
(namespaces, limits, uid, Landlock, seccomp) must all be in the one file the sandbox sees.

Set-up, in this order, before the submission's code can run:

0. in process mode as root, started by ``unshare`` in a new mount and PID namespace: the
   folders that hide the interpreter from other users (e.g. ``/root`` over a pyenv) become
   empty read-only tmpfs mounts showing only the interpreter's paths, read-only; then the
   worker forks, and the first process (PID 1 of the namespace) only waits for the second
   and exits with its status (``128 + signal`` for a death by signal), as bubblewrap does;
1. resource limits (address space, CPU time, file size, open files, core dumps, processes);
2. when started as root (bubblewrap as root), a switch to an unprivileged uid, which drops
   every capability;
3. Landlock, where the kernel has it: read-only access to the Python installation and the
   system libraries, read-write access to the scratch directory only, no TCP, no signals to
   processes outside the sandbox;
4. TensorFlow is imported (so that calls do not pay for it), then a seccomp filter: no new
   processes (threads only), no exec, no ptrace, no sockets but Unix ones, no signals but to
   itself.

Started as a template (``"template": true``), the worker does step 0, Landlock and the
imports, and then forks one child per worker the grader asks for (``serve_as_template``);
each child does steps 1-4 from its own config (``become_child``).

Protocol: messages are JSON documents framed by a 4-byte big-endian length, read from the
file descriptor ``in_fd`` and written to ``out_fd`` (never stdout: a submission's prints go
to stdout/stderr, which the grader drains and truncates). Values travel in the JSON forms of
``wire.py`` (the codec the grader uses too, copied next to this file): arrays as base64 with
numeric dtypes only; never pickle.

Requests: ``{"id", "op": "import"|"call"|"grad", "module", "function", "args", "kwargs",
"wrt"}``, or ``{"id", "op": "calibrate"}`` (times a fixed workload; only before any
import). Replies: ``{"id", "status": "ok", "value", "grads"}`` or ``{"id", "status":
"error"|"missing", "summary", "type_names", "message", "where"}``.
"""

import ctypes
import json
import os
import resource
import struct
import sys
import types

PACKAGE = "_practicum_submission"

CONFIG = {}
tf = None
wire = None  # the shared codec, loaded once the sandbox is set up (see load_wire)


# --------------------------------------------------------------------------- framing


def read_exact(fd, size):
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the grader closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def receive():
    (size,) = struct.unpack(">I", read_exact(CONFIG["in_fd"], 4))
    return json.loads(read_exact(CONFIG["in_fd"], size))


def send(message):
    payload = json.dumps(message).encode()
    data = struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(CONFIG["out_fd"], view)
        view = view[written:]


# --------------------------------------------------------------------------- limits


CPU_GRACE = 5  # seconds between SIGXCPU (soft limit: reported as a timeout) and SIGKILL


def apply_limits(limits):
    names = {
        "as": "RLIMIT_AS",
        "cpu": "RLIMIT_CPU",
        "fsize": "RLIMIT_FSIZE",
        "nofile": "RLIMIT_NOFILE",
        "core": "RLIMIT_CORE",
        "nproc": "RLIMIT_NPROC",
    }
    for key, value in limits.items():
        if value is None:
            continue
        limit = getattr(resource, names[key])
        soft, hard = resource.getrlimit(limit)
        value = int(value)
        top = value + CPU_GRACE if key == "cpu" else value
        if hard != resource.RLIM_INFINITY:
            value, top = min(value, hard), min(top, hard)
        resource.setrlimit(limit, (value, top))


def drop_privileges(uid):
    if uid is None or os.getuid() != 0:
        return False
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    return os.getuid() == uid


# --------------------------------------------------------------------------- namespaces

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384


def _c_text(text):
    return None if text is None else text.encode()


def mount(source, target, fstype, flags, data=None):
    result = libc().mount(
        _c_text(source), _c_text(target), _c_text(fstype), ctypes.c_ulong(flags), _c_text(data)
    )
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def expose(hidden):
    """``[[folder, [path, ...]], ...]``: each folder becomes an empty read-only tmpfs that
    shows only its listed paths (bind-mounted read-only), so that an unprivileged uid can
    reach the interpreter and nothing else of that folder. Needs root in a private mount
    namespace (``unshare --mount``); the host's mounts are untouched."""
    os.umask(0o022)
    for folder, paths in hidden:
        handles = [os.open(path, os.O_PATH | os.O_CLOEXEC) for path in paths]
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        for path, handle in zip(paths, handles):
            if os.path.isdir(f"/proc/self/fd/{handle}"):
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                open(path, "a").close()
            mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            os.close(handle)
        mount(None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755")


def become_reaped():
    """Forks. The parent (PID 1 of the new PID namespace, which ignores its own signals)
    only waits: it exits with the child's status, ``128 + signal`` for a death by signal,
    and kills the child when the grader closes the request pipe (the grader died). The
    child returns and becomes the worker: an ordinary process, whose signals (SIGXCPU,
    SIGSEGV, ...) act as usual."""
    import select

    pid = os.fork()
    if pid == 0:
        return
    watch = os.dup(CONFIG["in_fd"])
    for fd in (CONFIG["in_fd"], CONFIG["out_fd"]):
        os.close(fd)
    poller = select.poll()
    poller.register(watch, 0)  # POLLHUP only: the grader's end closed
    try:
        child = os.pidfd_open(pid)
        poller.register(child, select.POLLIN)
    except (AttributeError, OSError):
        child = None
    while True:
        events = dict(poller.poll(1000 if child is None else None))
        if events.get(watch, 0) & (select.POLLHUP | select.POLLERR):
            os.kill(pid, 9)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    os._exit(code)


# --------------------------------------------------------------------------- Landlock

_LIBC = None


def libc():
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.syscall.restype = ctypes.c_long
    return _LIBC


# Landlock (linux/landlock.h): landlock_create_ruleset, landlock_add_rule,
# landlock_restrict_self; the same numbers on x86_64 and aarch64.
LANDLOCK_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
LANDLOCK_RULE_PATH_BENEATH = 1
# Filesystem access rights (ABI 1 has bits 0..12; ABI 2 adds REFER, ABI 3 TRUNCATE).
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_ABI1_ALL = (1 << 13) - 1  # also remove, make (char, dir, reg, sock, fifo, block, sym)
FS_REFER = 1 << 13
FS_TRUNCATE = 1 << 14
FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE  # on a file
NET_BIND_TCP = 1 << 0  # ABI 4: handled with no rule, so no TCP bind or connect at all
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6: no abstract sockets or signals outside
SCOPE_SIGNAL = 1 << 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1


def apply_landlock(read_paths, write_paths):
    """Restricts file access to ``read_paths`` (read/execute) and ``write_paths`` (all).

    Returns the Landlock ABI version used, or 0 when the kernel lacks Landlock."""
    numbers = LANDLOCK_SYSCALLS.get(os.uname().machine)
    if numbers is None:
        return 0
    create, add_rule, restrict = numbers
    call = libc().syscall
    abi = call(create, None, ctypes.c_size_t(0), ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    if abi <= 0:
        return 0
    read = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
    handled = FS_ABI1_ALL
    if abi >= 2:
        handled |= FS_REFER
    if abi >= 3:
        handled |= FS_TRUNCATE
    fields = [handled]
    if abi >= 4:
        fields.append(NET_BIND_TCP | NET_CONNECT_TCP)
    if abi >= 6:
        fields.append(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)
    attr = struct.pack("<" + "Q" * len(fields), *fields)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = call(create, buffer, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        return 0
    dev_rights = read | FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0)  # /dev/null
    rules = [(path, read) for path in read_paths] + [(path, handled) for path in write_paths]
    rules.append(("/dev", dev_rights))
    for path, rights in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        if not os.path.isdir(path):
            rights &= FS_FILE_RIGHTS
        rule = struct.pack("<Qi", rights, fd)
        rule_buffer = ctypes.create_string_buffer(rule, len(rule))
        call(
            add_rule,
            ctypes.c_int(ruleset),
            ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
            rule_buffer,
            ctypes.c_uint32(0),
        )
        os.close(fd)
    libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if call(restrict, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
        os.close(ruleset)
        return 0
    os.close(ruleset)
    return int(abi)


# --------------------------------------------------------------------------- seccomp

# System calls a submission never needs, each refused with EPERM (x86_64 numbers, from
# asm/unistd_64.h), grouped by the reason for refusing them.
DENIED_X86_64 = {
    # new programs and processes (threads are allowed through clone, below)
    "fork": 57,
    "vfork": 58,
    "execve": 59,
    "execveat": 322,
    # reading or changing other processes
    "ptrace": 101,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "process_madvise": 440,
    "pidfd_open": 434,
    "pidfd_getfd": 438,
    # signals to other processes (kill and tgkill are allowed for the worker itself, below)
    "tkill": 200,
    "rt_sigqueueinfo": 129,
    "rt_tgsigqueueinfo": 297,
    "pidfd_send_signal": 424,
    # escaping the file-system view: mounts, namespaces, root changes, file handles
    "mount": 165,
    "umount2": 166,
    "unshare": 272,
    "setns": 308,
    "pivot_root": 155,
    "chroot": 161,
    "open_by_handle_at": 304,
    "name_to_handle_at": 303,
    # kernel attack surface with a record of privilege escalations
    "bpf": 321,
    "perf_event_open": 298,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "keyctl": 250,
    "add_key": 248,
    "request_key": 249,
    # the machine itself: kernels, modules, reboot, swap
    "kexec_load": 246,
    "init_module": 175,
    "finit_module": 313,
    "delete_module": 176,
    "reboot": 169,
    "swapon": 167,
    "swapoff": 168,
}
X86_64 = {
    "arch": 0xC000003E,  # AUDIT_ARCH_X86_64
    "deny": sorted(DENIED_X86_64.values()),
    # checked by argument: clone only with CLONE_THREAD, socket only AF_UNIX, kill and
    # tgkill only to the worker itself; clone3 gets ENOSYS so libc falls back to clone
    "clone": 56,
    "clone3": 435,
    "socket": 41,
    "kill": 62,
    "tgkill": 234,
    "seccomp": 317,
}


def apply_seccomp():
    """No new processes, no exec, no ptrace, no network sockets, no signals to others."""
    if os.uname().machine != "x86_64":
        return False
    table = X86_64
    pid = os.getpid()
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|..., BPF_RET
    allow, kill = 0x7FFF0000, 0x80000000  # SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS
    eperm, enosys = 0x00050000 | 1, 0x00050000 | 38  # SECCOMP_RET_ERRNO | EPERM, ENOSYS
    # seccomp_data offsets: nr at 0, arch at 4, args[0] at 16
    program = []  # (code, true_label_or_0, false_label_or_0, k)

    def emit(code, k, true=None, false=None):
        program.append([code, true, false, k])

    emit(ld, 4)
    emit(jeq, table["arch"], None, "kill")
    emit(ld, 0)
    emit(jge, 0x40000000, "eperm", None)  # the x32 ABI (__X32_SYSCALL_BIT): refused
    for number in table["deny"]:
        emit(jeq, number, "eperm", None)
    emit(jeq, table["clone3"], "enosys", None)
    emit(jeq, table["clone"], "clone", None)
    emit(jeq, table["socket"], "socket", None)
    emit(jeq, table["kill"], "kill_", None)
    emit(jeq, table["tgkill"], "tgkill", None)
    emit(ret, allow)
    labels = {}

    def label(name):
        labels[name] = len(program)

    label("clone")
    emit(ld, 16)
    emit(jset, 0x00010000, "allow", "eperm")  # CLONE_THREAD: threads only
    label("socket")
    emit(ld, 16)
    emit(jeq, 1, "allow", "eperm")  # AF_UNIX only
    label("kill_")
    emit(ld, 16)
    emit(jeq, pid, "allow", None)
    emit(jeq, 0, "allow", "eperm")
    label("tgkill")
    emit(ld, 16)
    emit(jeq, pid, "allow", "eperm")
    label("allow")
    emit(ret, allow)
    label("eperm")
    emit(ret, eperm)
    label("enosys")
    emit(ret, enosys)
    label("kill")
    emit(ret, kill)

    raw = b""
    for index, (code, true, false, k) in enumerate(program):
        jt = 0 if true is None else labels[true] - index - 1
        jf = 0 if false is None else labels[false] - index - 1
        raw += struct.pack("<HBBI", code, jt, jf, k)
    filters = ctypes.create_string_buffer(raw, len(raw))

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Program(len(program), ctypes.cast(filters, ctypes.c_void_p))
    libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    set_mode_filter, flag_tsync = 1, 1  # SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC
    result = libc().syscall(
        table["seccomp"],
        ctypes.c_uint(set_mode_filter),
        ctypes.c_uint(flag_tsync),
        ctypes.byref(fprog),
    )
    return result == 0


# --------------------------------------------------------------------------- plain data


def load_wire():
    """The codec shared with the grader (``wire.py``, copied next to this file)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wire.py")
    spec = importlib.util.spec_from_file_location("_practicum_wire", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- calls

MODULES = {}


class Failure(Exception):
    def __init__(self, status, summary, error=None, message=None):
        super().__init__(summary)
        self.reply = {
            "status": status,
            "summary": summary,
            "type_names": wire.type_names(error) if error is not None else [],
            "message": str(error) if message is None else message,
            "where": wire.short_traceback(error, CONFIG["submission"], relative=True)
            if error is not None
            else "",
        }


def load(module):
    if module in MODULES:
        cached = MODULES[module]
        if isinstance(cached, Failure):
            raise cached
        return cached
    if PACKAGE not in sys.modules:
        package = types.ModuleType(PACKAGE)
        package.__path__ = [CONFIG["submission"]]
        sys.modules[PACKAGE] = package
    import importlib

    try:
        loaded = importlib.import_module(f"{PACKAGE}.{module}")
    except BaseException as error:  # noqa: BLE001 - SystemExit and all
        sys.modules.pop(f"{PACKAGE}.{module}", None)
        loaded = Failure(
            "missing", f"{module}.py could not be imported: {wire.describe(error)}", error
        )
    MODULES[module] = loaded
    if isinstance(loaded, Failure):
        raise loaded
    return loaded


def function_of(module, name):
    target = getattr(load(module), name, None)
    if not callable(target):
        raise Failure("missing", f"{module}.py has no function {name}()", message="")
    return target


def call_error(module, function, error):
    if isinstance(error, NotImplementedError):
        return Failure(
            "missing",
            f"{wire.not_implemented_name(error, module, function)} is not implemented yet "
            f"(NotImplementedError: {error})",
            error,
        )
    return Failure("error", f"{module}.{function} raised {wire.describe(error)}", error)


def handle(request):
    op = request["op"]
    if op == "calibrate":  # the machine's speed, before any of the submission has run
        if MODULES:
            raise Failure("error", "calibrate must come before any import", message="")
        if tf is None:
            load_tensorflow()
        from practicum.challenge import calibration_workload

        return {"status": "ok", "value": float(calibration_workload())}
    module = request["module"]
    if op == "import":
        load(module)
        return {"status": "ok", "value": None}
    function = request["function"]
    target = function_of(module, function)
    if op == "grad" and tf is None:
        load_tensorflow()
    args = wire.decode(request["args"], wire.Budget(), tensor=as_tensor)
    kwargs = wire.decode(request["kwargs"], wire.Budget(), tensor=as_tensor)
    if op == "call":
        try:
            result = target(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001
            raise call_error(module, function, error) from None
        return {"status": "ok", "value": plain_or_failure(result, f"{function}() result")}
    watched = []
    for index in request["wrt"]:
        value = args[index]
        if isinstance(value, list):
            args[index] = [tf.Variable(item) for item in value]
        else:
            args[index] = tf.Variable(value)
        watched.append(args[index])
    try:
        with tf.GradientTape() as tape:
            result = target(*args, **kwargs)
        gradients = tape.gradient(result, watched)
    except BaseException as error:  # noqa: BLE001
        raise call_error(module, function, error) from None
    return {
        "status": "ok",
        "value": plain_or_failure(result, f"{function}() result"),
        "grads": plain_or_failure(gradients, "gradient"),
    }


def plain_or_failure(value, path):
    """The JSON form of a return value (the same conversion as in process), or Failure."""
    try:
        return wire.encode(wire.to_plain(value, path))
    except wire.Refused as refused:
        failure = Failure("error", refused.summary, message=refused.message)
        failure.reply["type_names"] = ["TypeError", "Exception", "BaseException"]
        raise failure from None
    except BaseException as error:  # noqa: BLE001 - a tensor whose .numpy() raises, ...
        raise Failure(
            "error", f"{path} could not be converted: {wire.describe(error)}", error
        ) from None


def serve():
    while True:
        try:
            request = receive()
        except EOFError:
            return
        try:
            reply = handle(request)
        except Failure as failure:
            reply = dict(failure.reply)
        except BaseException as error:  # noqa: BLE001 - never die on a submission's account
            reply = Failure(
                "error", f"the worker could not run the call: {wire.describe(error)}", error
            ).reply
        reply["id"] = request.get("id")
        try:
            send(reply)
        except (TypeError, ValueError) as error:  # e.g. a value JSON cannot hold
            send(
                {
                    "id": request.get("id"),
                    "status": "error",
                    "summary": f"the result could not be sent: {error}",
                    "type_names": ["TypeError"],
                    "message": str(error),
                    "where": "",
                }
            )


def load_tensorflow():
    global tf
    import tensorflow

    tf = tensorflow
    threads = CONFIG.get("threads")
    try:
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # loaded late: the submission has already started TensorFlow
        pass
    try:
        import keras  # noqa: F401 - loaded now, before the filters, as the tests will need it
    except ImportError:
        pass
    with tf.GradientTape() as tape:  # starts TensorFlow's thread pools before seccomp
        variable = tf.Variable([1.0, 2.0])
        loss = tf.reduce_sum(variable * variable)
    tape.gradient(loss, variable)


def as_tensor(array):
    """What a test passes as a tensor: a ``tf.constant`` (numpy's array in a worker
    started without TensorFlow, for numpy-only tasks)."""
    return array if tf is None else tf.constant(array)


def load_libraries(start_tensorflow):
    """numpy, the codec, TensorFlow (unless the grader says the task is numpy-only; its
    runtime started if ``start_tensorflow``) and the course's runtime helpers (no grader)
    on ``sys.path``: all loaded before the filters."""
    global wire
    import numpy  # noqa: F401 - wire.py needs it

    if wire is None:
        wire = load_wire()
    if CONFIG.get("tensorflow", True):
        if start_tensorflow:
            load_tensorflow()
        else:
            try:
                import keras  # noqa: F401
                import tensorflow  # noqa: F401
            except ImportError:
                pass
    if CONFIG.get("lib") and CONFIG["lib"] not in sys.path:
        sys.path.insert(0, CONFIG["lib"])


def confine_and_serve():
    """Steps 1-4 of the set-up (limits, uid, Landlock, TensorFlow, seccomp), then serves."""
    apply_limits(CONFIG.get("limits", {}))
    dropped = drop_privileges(CONFIG.get("uid"))
    try:
        libc().prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # SIGKILL when the grader dies
    except (OSError, AttributeError):
        pass
    landlock = 0
    if CONFIG.get("landlock"):
        landlock = apply_landlock(CONFIG["read_paths"], CONFIG["write_paths"])
    load_libraries(start_tensorflow=True)
    seccomp = apply_seccomp() if CONFIG.get("seccomp") else False
    send(
        {
            "id": 0,
            "status": "ready",
            "landlock": landlock,
            "seccomp": bool(seccomp),
            "uid": os.getuid(),
            "dropped": dropped,
        }
    )
    serve()


# --------------------------------------------------------------------------- template

PR_SET_DUMPABLE = 4


def serve_as_template():
    """The worker as a template (``"template": true`` in its config): it imports numpy and
    TensorFlow (without starting TensorFlow's runtime: no thread pools yet) and then forks a
    fresh worker for each request on its control socket, so that a worker starts without
    paying for the import. It never imports a submission; each child is set up exactly as a
    worker started on its own (limits, uid, Landlock, seccomp), from its own config.

    Control messages (one per datagram, JSON): ``{"op": "fork", "config"}`` with three file
    descriptors attached (the child's request pipe, reply pipe and output), answered by
    ``{"op": "forked", "pid"}``; ``{"op": "kill", "pid"}``; ``{"op": "kill_all"}``, answered
    by ``{"op": "killed_all"}`` once every child has ended; and, unasked, ``{"op":
    "exited", "pid", "code"}`` when a child ends (``-signal`` for a death by signal). The
    template ends when the grader closes its end of the socket, killing its children."""
    import select
    import signal
    import socket

    control = socket.socket(fileno=CONFIG["control_fd"])
    try:
        libc().prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
        libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # children cannot read or write its memory
    except (OSError, AttributeError):
        pass
    if CONFIG.get("landlock"):
        apply_landlock(CONFIG["read_paths"], CONFIG["write_paths"])
    load_libraries(start_tensorflow=False)  # its runtime starts in each child
    children = set()
    poller = select.poll()
    poller.register(control, select.POLLIN)

    def tell(message):
        control.send(json.dumps(message).encode())

    def end():
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)

    while True:
        for _, events in poller.poll(100):
            if not events & select.POLLIN:
                end()
            try:
                data, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
            except OSError:
                end()
            if not data:
                end()
            request = json.loads(data)
            if request.get("op") == "fork" and len(fds) == 3:
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    become_child(control, request["config"], fds)
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                tell({"op": "forked", "pid": pid})
            else:
                for fd in fds:
                    os.close(fd)
                if request.get("op") == "kill" and request.get("pid") in children:
                    os.kill(request["pid"], signal.SIGKILL)
                elif request.get("op") == "kill_all":
                    for child in children:
                        os.kill(child, signal.SIGKILL)
                    for child in children:
                        os.waitpid(child, 0)
                        tell({"op": "exited", "pid": child, "code": -9})
                    children.clear()
                    tell({"op": "killed_all", "pid": 0})
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in children:
                children.discard(pid)
                code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
                tell({"op": "exited", "pid": pid, "code": code})


def become_child(control, config, fds):
    """In a child of the template: its own pipes, output, environment, folder and config,
    then the set-up of any worker. Never returns into the template's loop."""
    try:
        control.close()
        in_fd, out_fd, output_fd = fds
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.setsid()
        CONFIG.clear()
        CONFIG.update(config, in_fd=in_fd, out_fd=out_fd)
        os.environ.clear()
        os.environ.update(CONFIG.get("env", {}))
        os.chdir(CONFIG["cwd"])
        confine_and_serve()
    except BaseException:  # noqa: BLE001 - a child must never go back to the template's loop
        os._exit(70)
    os._exit(0)


def main():
    CONFIG.update(json.loads(sys.argv[1]))
    if CONFIG.get("expose"):
        expose(CONFIG["expose"])
    if CONFIG.get("template"):
        serve_as_template()
        return
    if CONFIG.get("reaper"):
        become_reaped()
    confine_and_serve()


if __name__ == "__main__":
    main()
