"""The progress bar: one line per tenth without a terminal, redrawn in place on one."""
import io
import unittest

import support  # noqa: F401
from kvtier_capture.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


class ProgressTest(unittest.TestCase):
    def feed(self, stream):
        p = Progress(20, stream)
        for done in (0, 1, 3, 10, 19, 20):
            p.update(done, f"step {done}" if done < 20 else "writing")
        p.update(20, "writing again")
        return stream.getvalue()

    def test_log_lines(self):
        lines = self.feed(io.StringIO()).splitlines()
        self.assertEqual([line.split("] ")[1].split(" (")[0] for line in lines],
                         ["  0.0% step 0", " 15.0% step 3", " 50.0% step 10", " 95.0% step 19", "100.0% writing"])
        self.assertTrue(lines[-1].startswith("kvtier-capture [" + "#" * 30 + "]"))

    def test_terminal_redraws_one_line(self):
        out = self.feed(Terminal())
        self.assertEqual(out.count("\n"), 1)
        self.assertTrue(out.endswith("\n"))
        frames = out[1:-1].split("\r")
        self.assertEqual(len(frames), 6)
        widths = [len(f) for f in frames]   # padded: never shorter than the frame before
        self.assertEqual(widths, sorted(widths))
        self.assertGreater(widths[-2], widths[0])

    def test_an_error_starts_on_its_own_line(self):
        t = Terminal()
        p = Progress(20, t)
        p.update(5, "step 5")
        p.end_line()
        p.end_line()   # once
        self.assertEqual(t.getvalue().count("\n"), 1)
        self.assertTrue(t.getvalue().endswith("step 5 (0 s)\n"))
        log = io.StringIO()   # a log's lines end themselves; nothing half drawn
        p = Progress(20, log)
        p.update(5, "step 5")
        before = log.getvalue()
        p.end_line()
        self.assertEqual(log.getvalue(), before)
        done = Terminal()   # a finished bar already ended its line
        p = Progress(20, done)
        p.update(20, "writing")
        p.end_line()
        self.assertEqual(done.getvalue().count("\n"), 1)

    def test_quiet(self):
        s = io.StringIO()
        Progress(5, s, quiet=True).update(5, "x")
        self.assertEqual(s.getvalue(), "")


if __name__ == "__main__":
    unittest.main()
