#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal of ROWS x COLS, as a user at a terminal would: waits for
each expected text, then types the text that goes with it. Prints JSON {"output", "status"}.
usage: ptydrive.py ROWS COLS '[["expect", "send"], ...]' COMMAND [ARG...]"""
import fcntl, json, os, pty, select, struct, sys, termios, time

rows, cols, script, command = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.execvp(command[0], command)

output = b""

def read_until(pattern, timeout):
    global output
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        output += data
        if pattern is not None and pattern in output:
            return True
    return False

for expect, send in script:
    if not read_until(expect.encode(), 30):
        break
    os.write(fd, send.encode())
read_until(None, 30)
_, status = os.waitpid(pid, 0)
print(json.dumps({"output": output.decode(errors="replace"), "status": os.waitstatus_to_exitcode(status)}))
