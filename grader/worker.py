"""The untrusted side of the sandbox: runs a submission's functions for the grader.

This file is a standalone script. It is copied into the worker's scratch directory and run
there, inside bubblewrap when available, by :mod:`practicum.grader.sandbox`. It must not
import anything from the course: it holds no test code, no reference solution and no grading
state; it only imports the submission (a copy of it), calls what it is asked to call, and
sends the results back as plain data.

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

Protocol: messages are JSON documents framed by a 4-byte big-endian length, read from the
file descriptor ``in_fd`` and written to ``out_fd`` (never stdout: a submission's prints go
to stdout/stderr, which the grader drains and truncates). Arrays travel as
``{"__array__": {"dtype", "shape", "data": base64}}`` with numeric dtypes only; never pickle.

Requests: ``{"id", "op": "import"|"call"|"grad", "module", "function", "args", "kwargs",
"wrt"}``. Replies: ``{"id", "status": "ok", "value", "grads"}`` or ``{"id", "status":
"error"|"missing", "summary", "type_names", "message", "where"}``.
"""

import base64
import ctypes
import json
import os
import resource
import struct
import sys
import traceback
import types

NUMERIC_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}
PACKAGE = "_practicum_submission"

CONFIG = {}
np = None
tf = None


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
    names = {"as": "RLIMIT_AS", "cpu": "RLIMIT_CPU", "fsize": "RLIMIT_FSIZE",
             "nofile": "RLIMIT_NOFILE", "core": "RLIMIT_CORE", "nproc": "RLIMIT_NPROC"}
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
    result = libc().mount(_c_text(source), _c_text(target), _c_text(fstype),
                          ctypes.c_ulong(flags), _c_text(data))
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


LANDLOCK_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}


def apply_landlock(read_paths, write_paths):
    """Restricts file access to ``read_paths`` (read/execute) and ``write_paths`` (all).

    Returns the Landlock ABI version used, or 0 when the kernel lacks Landlock."""
    numbers = LANDLOCK_SYSCALLS.get(os.uname().machine)
    if numbers is None:
        return 0
    create, add_rule, restrict = numbers
    call = libc().syscall
    abi = call(create, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi <= 0:
        return 0
    read = (1 << 0) | (1 << 2) | (1 << 3)  # EXECUTE, READ_FILE, READ_DIR
    handled = (1 << 13) - 1  # every ABI 1 right
    if abi >= 2:
        handled |= 1 << 13  # REFER
    if abi >= 3:
        handled |= 1 << 14  # TRUNCATE
    fields = [handled]
    if abi >= 4:
        fields.append(1 | 2)  # BIND_TCP, CONNECT_TCP: no rule, so no TCP at all
    if abi >= 6:
        fields.append(1 | 2)  # scope: abstract Unix sockets, signals
    attr = struct.pack("<" + "Q" * len(fields), *fields)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = call(create, buffer, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        return 0
    dev_rights = read | (1 << 1) | ((1 << 14) if abi >= 3 else 0)
    rules = [(path, read) for path in read_paths] + [(path, handled) for path in write_paths]
    rules.append(("/dev", dev_rights))
    for path, rights in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        if not os.path.isdir(path):
            rights &= (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14)  # file rights only
        rule = struct.pack("<Qi", rights, fd)
        rule_buffer = ctypes.create_string_buffer(rule, len(rule))
        call(add_rule, ctypes.c_int(ruleset), ctypes.c_int(1), rule_buffer, ctypes.c_uint32(0))
        os.close(fd)
    libc().prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    if call(restrict, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
        os.close(ruleset)
        return 0
    os.close(ruleset)
    return int(abi)


# --------------------------------------------------------------------------- seccomp

X86_64 = {
    "arch": 0xC000003E,
    "deny": [57, 58, 59, 322, 101, 310, 311, 200, 165, 166, 272, 308, 155, 161, 321, 298,
             323, 425, 424, 438, 250, 248, 249, 246, 175, 313, 176, 169, 167, 168, 129, 297,
             440, 304, 303, 434],
    "clone": 56, "clone3": 435, "socket": 41, "kill": 62, "tgkill": 234, "seccomp": 317,
}


def apply_seccomp():
    """No new processes, no exec, no ptrace, no network sockets, no signals to others."""
    if os.uname().machine != "x86_64":
        return False
    table = X86_64
    pid = os.getpid()
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | 1, 0x00050000 | 38
    program = []  # (code, true_label_or_0, false_label_or_0, k)

    def emit(code, k, true=None, false=None):
        program.append([code, true, false, k])

    emit(ld, 4)
    emit(jeq, table["arch"], None, "kill")
    emit(ld, 0)
    emit(jge, 0x40000000, "eperm", None)
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
    libc().prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    result = libc().syscall(table["seccomp"], ctypes.c_uint(1), ctypes.c_uint(1),
                            ctypes.byref(fprog))  # SET_MODE_FILTER, FLAG_TSYNC
    return result == 0


# --------------------------------------------------------------------------- plain data


def encode_array(array):
    array = np.array(array, order="C", copy=True, subok=False)
    if array.dtype.name not in NUMERIC_DTYPES:
        raise TypeError(array.dtype.name)
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {"dtype": array.dtype.name, "shape": list(array.shape),
            "data": base64.b64encode(little.tobytes()).decode("ascii")}


def decode(value):
    """Arguments from the grader (already validated there) -> Python/numpy/tf objects."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return decode_array(value["__array__"])
    if "__scalar__" in value:
        return decode_array(value["__scalar__"])[()]
    if "__tensor__" in value:
        return tf.constant(decode_array(value["__tensor__"]))
    if "__tuple__" in value:
        return tuple(decode(item) for item in value["__tuple__"])
    if "__dict__" in value:
        return {key: decode(item) for key, item in value["__dict__"]}
    raise ValueError("malformed argument")


def decode_array(spec):
    dtype = np.dtype(spec["dtype"]).newbyteorder("<")
    data = base64.b64decode(spec["data"])
    return np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="))\
        .reshape(spec["shape"]).copy()


class Refused(Exception):
    def __init__(self, summary, message=""):
        super().__init__(summary)
        self.summary = summary
        self.message = message


def to_plain(value, path="result"):
    """A candidate's return value -> JSON-ready plain data (mirrors proxy.to_plain)."""
    if value is None:
        return None
    for plain_type in (bool, int, float, str):
        if isinstance(value, plain_type):
            return plain_type(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {"__dict__": [[str(key), to_plain(item, f"{path}[{key!r}]")]
                             for key, item in value.items()]}
    if isinstance(value, np.generic):
        item = np.array(value).item()
        if isinstance(item, (bool, int, float)):
            return item
        raise Refused(f"{path} holds Python objects, expected numbers")
    model = keras_model_to_plain(value)
    if model is not None:
        return to_plain(model, path)
    array = None
    if isinstance(value, (tf.Tensor, tf.Variable)):
        if value.dtype == tf.bfloat16:
            value = tf.cast(value, tf.float32)
        array = value.numpy()
    elif isinstance(value, np.ndarray):
        array = value
    if array is None:
        raise Refused(f"{path} is a {type(value).__name__}, expected a tensor, an array or a "
                      f"number", f"unsupported return type {type(value).__name__}")
    plain = np.array(array, copy=True, subok=False)
    if plain.dtype.name not in NUMERIC_DTYPES:
        raise Refused(f"{path} holds Python objects, expected numbers")
    return {"__array__": encode_array(plain)}


def keras_model_to_plain(value):
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(value, keras.Model):
        return None
    layers = []
    for layer in value.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            shape = None
        layers.append({"name": layer.name, "class_name": type(layer).__name__,
                       "output_shape": None if shape is None else [
                           None if dim is None else int(dim) for dim in shape]})
    inputs = getattr(value, "inputs", None) or []
    return {"keras_model": value.to_json(),
            "input_shape": [None if d is None else int(d) for d in inputs[0].shape]
            if inputs else None,
            "layers": layers}


# --------------------------------------------------------------------------- calls

MODULES = {}


def type_names(error):
    return [cls.__name__ for cls in type(error).__mro__ if cls is not object]


def describe(error):
    if isinstance(error, SyntaxError):
        return f"SyntaxError at line {error.lineno}: {error.msg}"
    return f"{type(error).__name__}: {error}"


def short_traceback(error):
    directory = CONFIG["submission"]
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.startswith(directory)]
    text = "".join(traceback.format_list(frames[-3:])).rstrip()
    return text.replace(directory + os.sep, "")


class Failure(Exception):
    def __init__(self, status, summary, error=None, message=None):
        super().__init__(summary)
        self.reply = {"status": status, "summary": summary,
                      "type_names": type_names(error) if error is not None else [],
                      "message": str(error) if message is None else message,
                      "where": short_traceback(error) if error is not None else ""}


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
        loaded = Failure("missing", f"{module}.py could not be imported: {describe(error)}",
                         error)
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
        return Failure("missing", f"{module}.{function} is not implemented yet "
                       f"(NotImplementedError: {error})", error)
    return Failure("error", f"{module}.{function} raised {describe(error)}", error)


def handle(request):
    op = request["op"]
    module = request["module"]
    if op == "import":
        load(module)
        return {"status": "ok", "value": None}
    function = request["function"]
    target = function_of(module, function)
    args = decode(request["args"])
    kwargs = decode(request["kwargs"])
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
    return {"status": "ok", "value": plain_or_failure(result, f"{function}() result"),
            "grads": plain_or_failure(gradients, "gradient")}


def plain_or_failure(value, path):
    try:
        return to_plain(value, path)
    except Refused as refused:
        failure = Failure("error", refused.summary, message=refused.message)
        failure.reply["type_names"] = ["TypeError", "Exception", "BaseException"]
        raise failure from None
    except BaseException as error:  # noqa: BLE001 - a tensor whose .numpy() raises, ...
        raise Failure("error", f"{path} could not be converted: {describe(error)}",
                      error) from None


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
            reply = Failure("error", f"the worker could not run the call: {describe(error)}",
                            error).reply
        reply["id"] = request.get("id")
        try:
            send(reply)
        except (TypeError, ValueError) as error:  # e.g. a value JSON cannot hold
            send({"id": request.get("id"), "status": "error",
                  "summary": f"the result could not be sent: {error}",
                  "type_names": ["TypeError"], "message": str(error), "where": ""})


def main():
    global np, tf
    CONFIG.update(json.loads(sys.argv[1]))
    if CONFIG.get("expose"):
        expose(CONFIG["expose"])
    if CONFIG.get("reaper"):
        become_reaped()
    apply_limits(CONFIG.get("limits", {}))
    dropped = drop_privileges(CONFIG.get("uid"))
    try:
        libc().prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGKILL when the grader dies
    except (OSError, AttributeError):
        pass
    landlock = 0
    if CONFIG.get("landlock"):
        landlock = apply_landlock(CONFIG["read_paths"], CONFIG["write_paths"])
    import numpy

    np = numpy
    import tensorflow

    tf = tensorflow
    threads = CONFIG.get("threads")
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    try:
        import keras  # noqa: F401 - loaded now, before the filters, as the tests will need it
    except ImportError:
        pass
    with tf.GradientTape() as tape:  # starts TensorFlow's thread pools before seccomp
        variable = tf.Variable([1.0, 2.0])
        loss = tf.reduce_sum(variable * variable)
    tape.gradient(loss, variable)
    if CONFIG.get("lib"):
        sys.path.insert(0, CONFIG["lib"])  # the course's runtime helpers (no grader)
    seccomp = apply_seccomp() if CONFIG.get("seccomp") else False
    send({"id": 0, "status": "ready", "landlock": landlock, "seccomp": bool(seccomp),
          "uid": os.getuid(), "dropped": dropped})
    serve()


if __name__ == "__main__":
    main()
