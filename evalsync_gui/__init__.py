"""EvalSync: keep a QA user directory in step with Zendesk, and automate Zendesk Chat agent access."""

APP_NAME = "EvalSync"
APP_AUTHOR = "EvalSync"
APP_ID = "io.evalsync.EvalSync"
__version__ = "0.1.0"
