"""Runs a command with stdin and stderr on a pseudo-terminal and stdout on a pipe, as a shell runs
`x=$(vault-multicast browse --pick)`, and plays a script of steps against the terminal:

    python3 pty-run.py COLS ROWS STEPS_JSON -- command args...

STEPS_JSON is a list of {"wait": "text"} (until the terminal has shown it since the last step; 20 s at most)
and {"send": "bytes"} (typed at the keyboard). Prints one JSON object: code, stdout, screen (all the
terminal output), failed (the step that timed out, if any).
"""

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

cols, rows, steps = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
command = sys.argv[sys.argv.index("--") + 1 :]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
child = subprocess.Popen(command, stdin=slave, stderr=slave, stdout=subprocess.PIPE, start_new_session=True)
os.close(slave)
screen = b""
mark = 0
failed = None


def pump(timeout):
    global screen
    ready, _, _ = select.select([master], [], [], timeout)
    if ready:
        try:
            screen += os.read(master, 65536)
        except OSError:
            return False
    return True


for step in steps:
    if "wait" in step:
        want = step["wait"].encode()
        deadline = time.monotonic() + 20
        while want not in screen[mark:] and time.monotonic() < deadline and child.poll() is None:
            pump(0.1)
        if want not in screen[mark:]:
            failed = step
            break
        mark = len(screen)
    else:
        os.write(master, step["send"].encode())
        # Keys arrive as separate reads, as a person types them (a lone ESC is told from an arrow by timing).
        time.sleep(0.3)
        pump(0)

if failed is not None:
    child.kill()
try:
    stdout, _ = child.communicate(timeout=20)
except subprocess.TimeoutExpired:
    child.kill()
    stdout, _ = child.communicate()
while pump(0.05) and select.select([master], [], [], 0)[0]:
    pass
print(
    json.dumps(
        {
            "code": child.returncode,
            "stdout": stdout.decode(errors="replace"),
            "screen": screen.decode(errors="replace"),
            "failed": failed,
        }
    )
)
