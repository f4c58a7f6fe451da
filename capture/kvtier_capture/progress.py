"""A plain-text progress bar on stderr: redrawn in place on a terminal, one line per tenth
of the work otherwise (logs, CI)."""
import sys
import time


class Progress:
    def __init__(self, total, stream=None, quiet=False):
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_tenth = -1
        self.start = time.monotonic()

    def update(self, done, what):
        if self.quiet or self.last_tenth > 10:
            return
        frac = min(done / self.total, 1.0)
        bar = "#" * int(frac * 30)
        line = f"kvtier-capture [{bar:<30}] {100 * frac:5.1f}% {what} ({time.monotonic() - self.start:.0f} s)"
        if self.tty:   # padded: a shorter line must cover the longer one before it
            self.width = max(getattr(self, "width", 0), len(line))
            self.stream.write("\r" + line.ljust(self.width) + ("\n" if done >= self.total else ""))
        elif int(frac * 10) > self.last_tenth:
            self.stream.write(line + "\n")
        self.last_tenth = max(self.last_tenth, int(frac * 10)) + (done >= self.total)   # 11: finished
        self.stream.flush()

    def end_line(self):
        """Ends a bar left half drawn on a terminal, so that a message starts on its own line."""
        if self.tty and not self.quiet and 0 <= self.last_tenth <= 10:
            self.stream.write("\n")
            self.last_tenth = 11
            self.stream.flush()
