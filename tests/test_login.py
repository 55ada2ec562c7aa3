"""huggingface_login.py: where the token comes from, that it is never shown, and the no-token/no-TTY error."""
import importlib.util
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "huggingface_login.py"
FAKE_TOKEN = "hf_FakeTokenForTests0123456789"


def offline_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    env.update(HF_HOME=str(tmp_path / "hf-home"), HF_HUB_OFFLINE="1", **extra)
    return env


def run_script(tmp_path, *args, **env):
    return subprocess.run([sys.executable, str(SCRIPT), *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=offline_env(tmp_path, **env), timeout=120)


def test_no_token_and_no_tty_is_one_line_exit_2(tmp_path):
    result = run_script(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "HF_TOKEN" in lines[0] and "--token" in lines[0]
    assert not (tmp_path / "hf-home" / "token").exists()


@pytest.mark.parametrize("source", ["flag", "env"])
def test_token_is_used_but_never_printed(tmp_path, source):
    args, env = (["--token", FAKE_TOKEN], {}) if source == "flag" else ([], {"HF_TOKEN": FAKE_TOKEN})
    result = run_script(tmp_path, *args, **env)
    assert result.returncode == 1  # offline: the hub cannot check the token
    assert "login failed" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert FAKE_TOKEN not in result.stdout + result.stderr


def test_prompt_on_a_terminal_hides_the_token(tmp_path):
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(SCRIPT)], stdin=child_fd, stdout=child_fd, stderr=child_fd,
                            env=offline_env(tmp_path), close_fds=True)
    os.close(child_fd)
    output, sent = b"", False
    while True:
        ready, _, _ = select.select([main_fd], [], [], 60)
        if not ready:
            proc.kill()
            pytest.fail(f"no output from the prompt; got {output!r}")
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if not sent and b"input hidden" in output:
            os.write(main_fd, FAKE_TOKEN.encode() + b"\n")
            sent = True
    os.close(main_fd)
    assert proc.wait(timeout=60) == 1 and sent
    assert FAKE_TOKEN.encode() not in output and b"login failed" in output


def test_login_receives_the_token(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("huggingface_login", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    received = {}
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "login", lambda token, **kw: received.update(token=token, **kw))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert module.main(["--token", f"  {FAKE_TOKEN} "]) == 0
    assert received == {"token": FAKE_TOKEN, "add_to_git_credential": False}
    out = capsys.readouterr()
    assert FAKE_TOKEN not in out.out + out.err
