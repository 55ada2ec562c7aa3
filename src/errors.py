"""The one mark of a user-facing error: its message is a single line that scripts print before exiting non-zero."""


class UserError(Exception):
    """Bad input or a missing resource, told in one line (no traceback). Every module's own error class derives
    from it next to its usual base (ValueError, RuntimeError), so one `isinstance` check serves every script."""


def is_user_error(exc: BaseException) -> bool:
    """True for errors to print as one line; anything else is a bug and keeps its traceback."""
    return isinstance(exc, UserError)


class SettingsError(UserError, ValueError):
    """A setting that cannot be used (checked before any work); the message is one user-facing line naming the flag."""


class VocoderUnavailable(UserError, RuntimeError):
    """HiFi-GAN weights that cannot be found or loaded; the message is one user-facing line."""
