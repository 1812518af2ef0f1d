"Helpers the test files share: the CLI run in this process, and the check of a one-line error."
import contextlib
import io

from vartransfer.cli.main import main


def run(*argv):
    "Run `vartransfer` in this process: (exit code, stdout, stderr)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code, err, contains):
    "Exit code 1, one line on stderr ('vartransfer <cmd>: error: ...'), no traceback, holding each of `contains`."
    assert code == 1, err
    assert err.count("\n") == 1 and ": error: " in err and "Traceback" not in err, err
    for c in [contains] if isinstance(contains, str) else contains: assert c in err, err
