"""Progress of long work on stderr: shown only where a person watches (stderr is a
terminal) and not asked to be quiet, so logs, pipes and CI get none.  tqdm draws the bar
when it is installed; without it a counter is rewritten in place on one line.  Used by
`python -m fastinit bench` and `demo`; `import fastinit` does not import this module."""
import io
import os
import sys


def wanted(quiet=False, stream=None):
    """wanted(quiet=False, stream=None) -> bool: True when progress should be shown, i.e.
    not quiet and `stream` (default: sys.stderr) is a terminal."""
    if quiet:
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):      # no isatty, or a closed stream
        return False


class _Counter:
    """The fallback without tqdm: "description: done/total" rewritten on one line."""

    def __init__(self, description, total, stream):
        self.description, self.total, self.stream = description, total, stream
        self.n = 0

    def update(self, n):
        self.n += n
        print(f"\r{self.description}: {self.n}/{self.total}", end="", file=self.stream,
              flush=True)

    def close(self):
        print(file=self.stream, flush=True)


def _terminal_size(stream):
    """(columns, lines) of the stream's terminal, 0 where unknown (a pseudo-terminal
    without a window, as under `script` or a test's pty, reports 0 by 0)."""
    try:
        return tuple(os.get_terminal_size(stream.fileno()))
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return 0, 0


def _bar(description, total, stream):
    try:
        from tqdm import tqdm
    except ImportError:
        return _Counter(description, total, stream)
    # tqdm hides its bar on a terminal of 0 lines (nested bars below the screen are
    # hidden): give such a terminal a size
    columns, lines = _terminal_size(stream)
    known = columns > 0 and lines > 0
    return tqdm(total=total, desc=description, file=stream, dynamic_ncols=known,
                ncols=None if known else 80, nrows=None if known else 24)


class Progress:
    """Progress(description, *, quiet=False, stream=None): progress(done, total) reports
    that `done` of `total` steps have started or finished; a bar on `stream` (default
    sys.stderr) when wanted(quiet, stream), else nothing.  A context manager: leaving it
    ends the bar's line.  A loop may end before `total` (a time budget): the bar then
    stops where it was."""

    def __init__(self, description, *, quiet=False, stream=None):
        self.description = description
        self.stream = sys.stderr if stream is None else stream
        self.shown = wanted(quiet, self.stream)
        self._bar = None

    def __call__(self, done, total):
        if not self.shown:
            return
        if self._bar is None:
            self._bar = _bar(self.description, total, self.stream)
        self._bar.total = total
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
